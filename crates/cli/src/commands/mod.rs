pub mod bench;
pub mod detect;
pub mod eval;
