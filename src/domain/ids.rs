/// New time-ordered identifier (UUIDv7, hyphenated text): sortable by creation time on both backends.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True when `s` looks like one of our ids; used to reject junk path parameters early.
pub fn is_id(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}
