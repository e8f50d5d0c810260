//! The files as the server sees them: open documents (what the editor
//! holds, saved or not) over the workspace on disk.
//!
//! A workspace is the folder holding the nearest `camp.toml` above a
//! document (as `camp check` finds it), else the editor's workspace folder,
//! else the document's own folder. All its `.camp` files form one analysis,
//! so editing `schema.camp` re-checks every campaign that uses it.

use crate::line_index::LineIndex;
use camp_compiler::schema::SchemaModel;
use camp_compiler::{Analysis, FileId, Input, Workspace};
use lsp_types::Uri;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

/// How a document is known: by its path on disk, or by its URI when it
/// has none (an unsaved buffer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKey {
    Path(PathBuf),
    Other(String),
}

impl DocKey {
    /// The key of a URI: file URIs by their (canonical) path.
    pub fn of(uri: &Uri) -> DocKey {
        let path = url::Url::parse(uri.as_str())
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok());
        match path {
            Some(p) => DocKey::Path(std::fs::canonicalize(&p).unwrap_or(p)),
            None => DocKey::Other(uri.as_str().to_string()),
        }
    }
}

/// A `file://` URI for a path.
pub fn uri_of_path(path: &Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    Uri::from_str(url.as_str()).ok()
}

/// An open document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub uri: Uri,
    pub text: String,
    pub version: i32,
}

/// Which files a project holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every `.camp` file under `root` (`recursive`) or directly in it.
    Disk { root: PathBuf, recursive: bool },
    /// One buffer with no file behind it.
    Buffer(String),
}

impl Scope {
    fn contains(&self, key: &DocKey) -> bool {
        match (self, key) {
            (Scope::Disk { root, recursive: true }, DocKey::Path(p)) => p.starts_with(root),
            (Scope::Disk { root, recursive: false }, DocKey::Path(p)) => p.parent() == Some(root.as_path()),
            (Scope::Buffer(a), DocKey::Other(b)) => a == b,
            _ => false,
        }
    }
}

/// One analysis: a workspace's files and the last result.
pub struct Project {
    pub scope: Scope,
    /// The files on disk (open documents take precedence).
    pub disk: BTreeMap<PathBuf, Input>,
    pub snapshot: Option<Snapshot>,
    /// The last schema with a customer table, for completion while the
    /// schema file itself is half-typed.
    last_schema: Option<SchemaModel>,
    /// Parses of unchanged files, kept across edits.
    parses: camp_compiler::ParseCache,
}

/// One file of a snapshot.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub key: DocKey,
    pub uri: Uri,
    /// Set for open documents.
    pub version: Option<i32>,
}

/// A checked state of a project: the texts, the analysis, and what tools
/// derive from them on demand.
pub struct Snapshot {
    pub files: Vec<FileEntry>,
    pub workspace: Workspace,
    pub analysis: Analysis,
    /// The schema for completion and hover (the last good one if the
    /// current files have none).
    pub schema: SchemaModel,
    lines: Vec<OnceLock<LineIndex>>,
    index: OnceLock<crate::ide::index::Index>,
}

impl Snapshot {
    pub fn file_of(&self, key: &DocKey) -> Option<FileId> {
        self.files.iter().position(|f| &f.key == key).map(FileId)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.workspace.file(id).map_or("", |f| f.text.as_str())
    }

    pub fn uri(&self, id: FileId) -> Option<&Uri> {
        self.files.get(id.0).map(|f| &f.uri)
    }

    pub fn line_index(&self, id: FileId) -> &LineIndex {
        match self.lines.get(id.0) {
            Some(cell) => cell.get_or_init(|| LineIndex::new(self.text(id))),
            None => empty_index(),
        }
    }

    /// Definitions and uses of every name, built on first use.
    pub fn index(&self) -> &crate::ide::index::Index {
        self.index
            .get_or_init(|| crate::ide::index::Index::build(&self.analysis.asts, &self.schema))
    }
}

fn empty_index() -> &'static LineIndex {
    static EMPTY: OnceLock<LineIndex> = OnceLock::new();
    EMPTY.get_or_init(|| LineIndex::new(""))
}

/// Open documents and the projects they belong to.
#[derive(Default)]
pub struct World {
    pub docs: BTreeMap<DocKey, Doc>,
    /// The editor's workspace folders.
    pub folders: Vec<PathBuf>,
    pub projects: Vec<Project>,
}

impl World {
    /// The project holding `key`, created (and its files read) if needed.
    pub fn project_for(&mut self, key: &DocKey) -> usize {
        if let Some(i) = self.find_project(key) {
            return i;
        }
        let scope = match key {
            DocKey::Other(uri) => Scope::Buffer(uri.clone()),
            DocKey::Path(path) => self.scope_for(path),
        };
        let mut disk = BTreeMap::new();
        if let Scope::Disk { root, recursive } = &scope {
            for path in camp_files(root, *recursive) {
                let input = read(&path);
                disk.insert(path, input);
            }
        }
        crate::log::log_info!("new project {scope:?} with {} files", disk.len());
        self.projects.push(Project {
            scope,
            disk,
            snapshot: None,
            last_schema: None,
            parses: camp_compiler::ParseCache::default(),
        });
        self.projects.len() - 1
    }

    /// The most specific existing project holding `key`.
    pub fn find_project(&self, key: &DocKey) -> Option<usize> {
        self.projects
            .iter()
            .enumerate()
            .filter(|(_, p)| p.scope.contains(key))
            .max_by_key(|(_, p)| match &p.scope {
                Scope::Disk { root, .. } => root.components().count(),
                Scope::Buffer(_) => usize::MAX,
            })
            .map(|(i, _)| i)
    }

    fn scope_for(&self, path: &Path) -> Scope {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(root) = dir.ancestors().find(|d| d.join("camp.toml").is_file()) {
            return Scope::Disk {
                root: root.to_path_buf(),
                recursive: true,
            };
        }
        if let Some(folder) = self
            .folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.components().count())
        {
            return Scope::Disk {
                root: folder.clone(),
                recursive: true,
            };
        }
        Scope::Disk {
            root: dir,
            recursive: false,
        }
    }

    /// Re-reads a file from disk into every project that holds it.
    pub fn reload(&mut self, path: &Path) -> Vec<usize> {
        let key = DocKey::Path(path.to_path_buf());
        let mut touched = Vec::new();
        for (i, p) in self.projects.iter_mut().enumerate() {
            if !p.scope.contains(&key) {
                continue;
            }
            if path.is_file() {
                p.disk.insert(path.to_path_buf(), read(path));
            } else {
                p.disk.remove(path);
            }
            touched.push(i);
        }
        touched
    }

    /// Checks a project again from its files and open documents.
    pub fn rebuild(&mut self, i: usize) {
        let Some(project) = self.projects.get(i) else { return };
        let mut keys: Vec<DocKey> = project.disk.keys().map(|p| DocKey::Path(p.clone())).collect();
        keys.extend(self.docs.keys().filter(|k| project.scope.contains(k)).cloned());
        keys.sort();
        keys.dedup();
        let mut workspace = Workspace::new();
        let mut files = Vec::with_capacity(keys.len());
        for key in keys {
            let (input, uri, version) = match self.docs.get(&key) {
                Some(doc) => (Input::Text(doc.text.clone()), Some(doc.uri.clone()), Some(doc.version)),
                None => {
                    let input = match &key {
                        DocKey::Path(p) => project.disk.get(p).cloned(),
                        DocKey::Other(_) => None,
                    };
                    let Some(input) = input else { continue };
                    let uri = match &key {
                        DocKey::Path(p) => uri_of_path(p),
                        DocKey::Other(u) => Uri::from_str(u).ok(),
                    };
                    (input, uri, None)
                }
            };
            let Some(uri) = uri else { continue };
            workspace.add(display(&project.scope, &key), input);
            files.push(FileEntry { key, uri, version });
        }
        let Some(project) = self.projects.get_mut(i) else { return };
        let analysis = camp_compiler::analyze_cached(&workspace, &mut project.parses);
        let schema = schema_of(&analysis);
        let schema = if schema.customer.is_some() {
            project.last_schema = Some(schema.clone());
            schema
        } else {
            project.last_schema.clone().unwrap_or(schema)
        };
        let lines = (0..files.len()).map(|_| OnceLock::new()).collect();
        project.snapshot = Some(Snapshot {
            files,
            workspace,
            analysis,
            schema,
            lines,
            index: OnceLock::new(),
        });
    }

    /// The snapshot and file id of a document, if it has been checked.
    pub fn lookup(&self, uri: &Uri) -> Option<(&Snapshot, FileId)> {
        let key = DocKey::of(uri);
        let project = self.projects.get(self.find_project(&key)?)?;
        let snapshot = project.snapshot.as_ref()?;
        Some((snapshot, snapshot.file_of(&key)?))
    }
}

/// The schema model of an analysis's schema blocks.
pub fn schema_of(analysis: &Analysis) -> SchemaModel {
    let mut schemas = Vec::new();
    for (i, file) in analysis.asts.iter().enumerate() {
        for item in &file.items {
            if let camp_grammar::ast::Item::Schema(s) = item {
                schemas.push((FileId(i), s));
            }
        }
    }
    camp_compiler::schema::build(&schemas, &mut camp_compiler::diagnostic::Sink::default())
}

/// A file's name as the compiler shows it: relative to the workspace.
fn display(scope: &Scope, key: &DocKey) -> String {
    match (scope, key) {
        (Scope::Disk { root, .. }, DocKey::Path(p)) => p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned(),
        (_, DocKey::Path(p)) => p.to_string_lossy().into_owned(),
        (_, DocKey::Other(u)) => u.clone(),
    }
}

/// Every `.camp` file under `dir`, skipping hidden folders, `target` and
/// `node_modules` (as `camp check` does).
pub fn camp_files(dir: &Path, recursive: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if recursive && !hidden && name != "target" && name != "node_modules" {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "camp") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's contents as the compiler takes them.
pub fn read(path: &Path) -> Input {
    // Only regular files: reading a FIFO or a device could block forever.
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Input::Unreadable {
                reason: "not a regular file".into(),
            }
        }
        Err(e) => return Input::Unreadable { reason: e.to_string() },
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Input::Text(text),
            Err(e) => Input::InvalidUtf8 {
                valid_up_to: e.utf8_error().valid_up_to(),
                lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
        },
        Err(e) => Input::Unreadable { reason: e.to_string() },
    }
}
