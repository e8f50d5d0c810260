//! The camp compiler: pure functions from source text to diagnostics (and,
//! later stages, plans). No IO happens here: callers read files and pass text.

pub mod channel;
pub(crate) mod check;
pub mod codes;
pub mod diagnostic;
pub mod facts;
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
    let mut parsed_files = parse_all(workspace);
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
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check::check(&files))) {
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

/// Parses every readable file; files are independent, so a large workspace
/// is parsed on all cores.
fn parse_all(workspace: &Workspace) -> Vec<Option<camp_grammar::Parsed>> {
    let parse = |f: &SourceFile| (f.unreadable.is_none() && f.invalid_utf8_at.is_none()).then(|| camp_grammar::parse(&f.text));
    let total: usize = workspace.files.iter().map(|f| f.text.len()).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(workspace.files.len());
    if threads < 2 || total < 32 * 1024 {
        return workspace.files.iter().map(parse).collect();
    }
    let chunk = workspace.files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = workspace
            .files
            .chunks(chunk)
            .map(|files| scope.spawn(move || files.iter().map(parse).collect::<Vec<_>>()))
            .collect();
        // A parser panic is a bug; re-raise it on this thread as a panic
        // would have happened without threads.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
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
