//! The store's migrations are embedded by `sqlx::migrate!`: a new file under
//! `migrations/` must rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
