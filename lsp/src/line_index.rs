//! Byte offsets <-> LSP positions. The protocol counts columns in UTF-16
//! code units: a Hangul syllable is one unit (three UTF-8 bytes), an emoji
//! outside the Basic Multilingual Plane two (four bytes). This is the one
//! place that converts; everything else works in byte offsets.

/// Line starts of one text, computed once per text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The 0-based line and UTF-16 column of a byte offset (clamped into
    /// the text and back to a char boundary, so any offset is safe).
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = text.get(start..offset).map_or(0, |s| s.encode_utf16().count());
        (to_u32(line), to_u32(column))
    }

    /// The byte offset of a 0-based line and UTF-16 column. A column past
    /// the end of its line means the end of the line (before `\r\n`), a
    /// line past the end means the end of the text, and a column inside a
    /// surrogate pair means the start of that char.
    pub fn offset(&self, text: &str, line: u32, column: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return text.len();
        };
        let end = self.starts.get(line as usize + 1).map_or(text.len(), |next| next - 1);
        let content = text.get(start..end).unwrap_or("");
        let content = content.strip_suffix('\r').unwrap_or(content);
        let mut units = 0usize;
        for (i, c) in content.char_indices() {
            let next = units + c.len_utf16();
            if next > column as usize {
                return start + i;
            }
            units = next;
        }
        start + content.len()
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_and_astral_chars() {
        let text = "ab\n고객명 😀x\r\nend";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap_or(0);
        // 고객명 = 3 units, space = 1, 😀 = 2.
        assert_eq!(index.position(text, x), (1, 6));
        assert_eq!(index.offset(text, 1, 6), x);
        // Inside the surrogate pair: the start of the emoji.
        let emoji = text.find('😀').unwrap_or(0);
        assert_eq!(index.offset(text, 1, 5), emoji);
        // Inside a UTF-8 sequence: clamped back.
        assert_eq!(index.position(text, emoji + 1), (1, 4));
        // Past the end of a CRLF line: before `\r`.
        assert_eq!(index.offset(text, 1, 99), x + 1);
        assert_eq!(index.offset(text, 9, 0), text.len());
        assert_eq!(index.position(text, 999), (2, 3));
    }
}
