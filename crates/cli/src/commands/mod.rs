pub mod bench;
pub mod catalog;
pub mod detect;
pub mod eval;
pub mod feedback;
pub mod recommend;
