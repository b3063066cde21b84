//! The default emotion model on 48x48 faces: one face, and a batch of 8.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use melodora_core::GrayImage;
use melodora_emotion::EmotionClassifier;

fn faces(n: usize) -> Vec<GrayImage> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vision/tests/fixtures/parity/images/photo_astronaut_small_256.png");
    let img = GrayImage::from_dynamic(&image::open(&path).expect("fixture"));
    (0..n).map(|i| img.crop(10 * i, 5 * i, 96, 96)).collect()
}

fn classification(c: &mut Criterion) {
    let classifier = EmotionClassifier::default_model().expect("embedded model");
    let mut group = c.benchmark_group("emotion_default_model");
    for batch in [1, 8] {
        let faces = faces(batch);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter(|| classifier.classify(&faces).expect("classify"))
        });
    }
    group.finish();
}

criterion_group!(benches, classification);
criterion_main!(benches);
