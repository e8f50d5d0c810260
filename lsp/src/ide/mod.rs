//! Editor features over the compiler's results, in byte offsets and plain
//! structs: nothing here knows the protocol (`handlers` converts).

pub mod completion;
pub mod context;
pub mod hover;
pub mod index;
pub mod inlay;
pub mod symbols;

use camp_compiler::schema::SchemaModel;
use camp_compiler::{Analysis, Workspace};

/// What the features read: one checked workspace.
pub struct Db<'a> {
    pub workspace: &'a Workspace,
    pub analysis: &'a Analysis,
    pub schema: &'a SchemaModel,
    pub index: &'a index::Index,
}
