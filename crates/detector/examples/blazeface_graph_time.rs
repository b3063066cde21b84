//! Times BlazeFace's compiled graph alone (no resize, no decoding) on a
//! given input tensor, for bench/blazeface_vs_onnxruntime.py:
//!
//! `blazeface_graph_time MODEL.tflite INPUT.f32 OUTPUT.f32 RUNS [--profile]`
//!
//! INPUT.f32 holds the input tensor's values (NHWC, little-endian f32);
//! OUTPUT.f32 receives the outputs, concatenated in the model's order; the
//! median milliseconds of RUNS runs (after a warm-up) go to stdout. With
//! `--profile`, each step's median time goes to stderr, slowest first.
use std::time::Instant;

use melodora_detector::tflite::{CompiledGraph, TfliteModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (profile, args) = match args.split_last() {
        Some((last, rest)) if last == "--profile" => (true, rest),
        _ => (false, &args[..]),
    };
    let [model, input, output, runs] = args else {
        return Err(
            "usage: blazeface_graph_time MODEL.tflite INPUT.f32 OUTPUT.f32 RUNS [--profile]".into(),
        );
    };
    let runs: usize = runs.parse()?;
    let graph = CompiledGraph::compile(TfliteModel::parse(&std::fs::read(model)?)?)?;
    let input: Vec<f32> = std::fs::read(input)?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let outputs = graph.run(&input)?;
    for _ in 0..runs / 10 {
        graph.run(&input)?;
    }
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            graph
                .run(&input)
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    times.sort_by(f64::total_cmp);
    let bytes: Vec<u8> = outputs
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(output, bytes)?;
    println!("{:.4}", times[times.len() / 2]);
    if profile {
        let mut steps = graph.profile(&input, runs)?;
        let total: f64 = steps.iter().map(|(_, ms)| ms).sum();
        steps.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (name, ms) in steps {
            eprintln!("{ms:8.4} ms {:5.1} %  {name}", 100.0 * ms / total);
        }
    }
    Ok(())
}
