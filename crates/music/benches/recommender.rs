//! Making a list from the embedded default catalog: the index pick alone,
//! and the whole request with the store round trip.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use melodora_core::Emotion;
use melodora_music::{Mode, Recommender, Request, Session, Store, DEFAULT_LIMIT};

fn recommendation(c: &mut Criterion) {
    let store = Store::open_in_memory(true).expect("seeded store");
    let recommender = Recommender::load(&store).expect("index");
    let mut group = c.benchmark_group("recommender_default_catalog");
    for mode in [Mode::Match, Mode::Uplift] {
        let request = Request {
            emotion: Emotion::Sad,
            mode,
            limit: DEFAULT_LIMIT,
            from: melodora_music::Source::All,
        };
        group.bench_function(format!("pick_{mode:?}"), |b| {
            let mut seed = 0;
            b.iter(|| {
                seed += 1;
                let mut session = Session::new("bench", seed);
                recommender.pick(&request, &mut session, &[])
            })
        });
        group.bench_function(format!("recommend_{mode:?}"), |b| {
            let mut seed = 0;
            b.iter(|| {
                seed += 1;
                let mut session = Session::new("bench", seed);
                recommender
                    .recommend(&store, &request, &mut session)
                    .expect("recommend")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, recommendation);
criterion_main!(benches);
