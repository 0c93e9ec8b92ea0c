// `sqlx::migrate!` embeds the migrations folders at compile time; a new migration file must
// rebuild the binary (sqlx's documented build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
