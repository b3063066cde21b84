pub mod bench;
pub mod detect;
