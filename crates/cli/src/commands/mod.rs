pub mod bench;
pub mod bench_catalog;
pub mod catalog;
pub mod detect;
pub mod eval;
pub mod feedback;
pub mod recommend;
pub mod serve;
