//! The camp compiler: pure functions from source text to diagnostics (and,
//! later stages, plans). No IO happens here: callers read files and pass text.

pub mod channel;
pub(crate) mod check;
pub mod codes;
pub mod diagnostic;
pub mod facts;
pub mod lists;
pub mod lower;
pub mod plan;
pub mod policy;
pub mod program;
pub mod render;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod templating;
pub mod types;

use camp_grammar::{ast, Span, SyntaxError, SyntaxErrorKind};
pub use diagnostic::{Diagnostic, Fix, Label, Severity};
pub use source::{FileId, LineCol, SourceFile};

/// A file as it reached the compiler: its text, or why there is none.
#[derive(Debug, Clone)]
pub enum Input {
    Text(String),
    /// Bytes that are not UTF-8; `valid_up_to` is where the first bad byte is.
    InvalidUtf8 {
        lossy: String,
        valid_up_to: usize,
    },
    /// The file could not be read at all.
    Unreadable {
        reason: String,
    },
}

/// Every file of a workspace, checked together.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub files: Vec<SourceFile>,
    /// The channels `camp.toml` configures, by name, when there is one
    /// (the checker is pure: the binary reads the file and passes them in).
    pub channels: Option<std::collections::BTreeMap<String, ChannelFacts>>,
}

/// What the checker needs to know of a configured channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelFacts {
    /// It delivers through a provider (a webhook), not to stdout or a file.
    pub provider: bool,
    /// `certified = true`: the provider has certified the sender (전송자격인증).
    pub certified: bool,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; returns its id.
    pub fn add(&mut self, path: impl Into<String>, input: Input) -> FileId {
        let id = FileId(self.files.len());
        match input {
            Input::Text(text) => {
                self.files.push(SourceFile::new(path, text));
            }
            Input::InvalidUtf8 { lossy, valid_up_to } => {
                // Keep the text for display, remember where it broke.
                let mut file = SourceFile::new(path, lossy);
                file.invalid_utf8_at = Some(valid_up_to);
                self.files.push(file);
            }
            Input::Unreadable { reason } => {
                let mut file = SourceFile::new(path, String::new());
                file.unreadable = Some(reason);
                self.files.push(file);
            }
        }
        id
    }

    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0)
    }
}

/// What checking a workspace found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub asts: Vec<ast::File>,
    /// Each message's worst-case size per channel and its ad-law checks.
    pub facts: facts::Facts,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether some file could not be read (an IO problem: exit code 2).
    pub fn has_io_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code == codes::UNREADABLE)
    }
}

/// Parses and checks every file of the workspace. Never panics: a bug in a
/// check becomes an internal-error diagnostic (E0901) instead.
pub fn analyze(workspace: &Workspace) -> Analysis {
    let parsed = parse_all(workspace);
    analyze_parsed(workspace, parsed)
}

/// As [`analyze`], but files whose text is unchanged since the last call
/// with the same `cache` are not parsed again: the language server keeps
/// one across edits, so a keystroke re-parses one file.
pub fn analyze_cached(workspace: &Workspace, cache: &mut ParseCache) -> Analysis {
    let parsed = cache.parse_all(workspace);
    analyze_parsed(workspace, parsed)
}

fn analyze_parsed(workspace: &Workspace, mut parsed_files: Vec<Option<camp_grammar::Parsed>>) -> Analysis {
    let mut diagnostics = Vec::new();
    let mut asts = Vec::with_capacity(workspace.files.len());
    for (i, file) in workspace.files.iter().enumerate() {
        let id = FileId(i);
        if let Some(reason) = &file.unreadable {
            diagnostics.push(unreadable(id, reason));
            asts.push(ast::File::default());
            continue;
        }
        if let Some(at) = file.invalid_utf8_at {
            let span = Span::new(at, at);
            diagnostics.push(
                Diagnostic::new(
                    codes::INVALID_UTF8,
                    id,
                    span,
                    "the file is not valid UTF-8",
                    "first invalid byte here",
                )
                .with_help("save the file as UTF-8 (camp files are always UTF-8)"),
            );
            asts.push(ast::File::default());
            continue;
        }
        let parsed = parsed_files[i].take().unwrap_or_default();
        if parsed.file.items.is_empty() && parsed.errors.is_empty() {
            diagnostics.push(
                Diagnostic::new(codes::EMPTY_FILE, id, Span::new(0, 0), "the file defines nothing", "empty file")
                    .with_help("add a `schema`, `policy`, `segment`, `message` or `campaign`, or delete the file"),
            );
        }
        diagnostics.extend(parsed.errors.into_iter().map(|e| syntax(id, e)));
        asts.push(parsed.file);
    }
    let files: Vec<(FileId, &ast::File, &str)> = asts
        .iter()
        .enumerate()
        .map(|(i, f)| (FileId(i), f, workspace.files[i].text.as_str()))
        .collect();
    let mut facts = facts::Facts::default();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check::check(&files, workspace.channels.as_ref()))) {
        Ok((found, measured)) => {
            diagnostics.extend(found);
            facts = measured;
        }
        Err(_) => diagnostics.push(
            Diagnostic::new(
                codes::INTERNAL,
                FileId(0),
                Span::new(0, 0),
                "the checker failed on this workspace",
                "internal error",
            )
            .with_help("please report this with the files that cause it"),
        ),
    }
    sort(&mut diagnostics);
    Analysis { diagnostics, asts, facts }
}

/// Whether a file has text to parse.
fn readable(f: &SourceFile) -> bool {
    f.unreadable.is_none() && f.invalid_utf8_at.is_none()
}

/// Parses every readable file (`None` for the others).
fn parse_all(workspace: &Workspace) -> Vec<Option<camp_grammar::Parsed>> {
    let texts: Vec<&str> = workspace.files.iter().filter(|f| readable(f)).map(|f| f.text.as_str()).collect();
    let mut parsed = parse_texts(&texts).into_iter();
    workspace
        .files
        .iter()
        .map(|f| if readable(f) { parsed.next() } else { None })
        .collect()
}

/// Parses texts; they are independent, so many are parsed on all cores.
fn parse_texts(texts: &[&str]) -> Vec<camp_grammar::Parsed> {
    let total: usize = texts.iter().map(|t| t.len()).sum();
    // Small workspaces first: asking for the core count reads cgroup files,
    // which costs more than parsing a campaign.
    if total < 32 * 1024 {
        return texts.iter().map(|t| camp_grammar::parse(t)).collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(texts.len());
    if threads < 2 {
        return texts.iter().map(|t| camp_grammar::parse(t)).collect();
    }
    let chunk = texts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|t| camp_grammar::parse(t)).collect::<Vec<_>>()))
            .collect();
        // A parser panic is a bug; re-raise it on this thread as a panic
        // would have happened without threads.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Parses kept between analyses (see [`analyze_cached`]), by file path;
/// a file is parsed again whenever its text differs from the kept one.
#[derive(Debug, Default)]
pub struct ParseCache {
    entries: std::collections::HashMap<String, (String, camp_grammar::Parsed)>,
}

impl ParseCache {
    fn parse_all(&mut self, workspace: &Workspace) -> Vec<Option<camp_grammar::Parsed>> {
        let stale: Vec<&SourceFile> = workspace
            .files
            .iter()
            .filter(|f| readable(f) && self.entries.get(&f.path).is_none_or(|(text, _)| *text != f.text))
            .collect();
        let texts: Vec<&str> = stale.iter().map(|f| f.text.as_str()).collect();
        for (f, parsed) in stale.iter().zip(parse_texts(&texts)) {
            self.entries.insert(f.path.clone(), (f.text.clone(), parsed));
        }
        let present: std::collections::HashSet<&str> = workspace.files.iter().map(|f| f.path.as_str()).collect();
        self.entries.retain(|path, _| present.contains(path.as_str()));
        workspace
            .files
            .iter()
            .map(|f| {
                let kept = self.entries.get(&f.path).filter(|(text, _)| *text == f.text);
                match kept {
                    _ if !readable(f) => None,
                    Some((_, parsed)) => Some(parsed.clone()),
                    // Two files with one path: only one can be kept.
                    None => Some(camp_grammar::parse(&f.text)),
                }
            })
            .collect()
    }
}

/// Files in order, then positions, so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.file, a.primary.span.start, a.code.id, &a.message).cmp(&(b.primary.file, b.primary.span.start, b.code.id, &b.message))
    });
}

fn syntax(file: FileId, e: SyntaxError) -> Diagnostic {
    let code = match e.kind {
        SyntaxErrorKind::Unexpected => codes::SYNTAX,
        SyntaxErrorKind::NestingTooDeep => codes::NESTING_TOO_DEEP,
        SyntaxErrorKind::UnterminatedString => codes::UNTERMINATED_STRING,
        SyntaxErrorKind::FileTooLarge => codes::FILE_TOO_LARGE,
        SyntaxErrorKind::BadPlaceholder => codes::BAD_PLACEHOLDER,
    };
    let d = Diagnostic::new(code, file, e.span, e.message, e.label);
    match e.help {
        Some(h) => d.with_help(h),
        None => d,
    }
}

/// A diagnostic for a path that could not be read (exit code 2).
fn unreadable(file: FileId, reason: &str) -> Diagnostic {
    Diagnostic::new(
        codes::UNREADABLE,
        file,
        Span::new(0, 0),
        format!("cannot read the file: {reason}"),
        "unreadable",
    )
    .with_help("check that the path exists and that you may read it")
}
