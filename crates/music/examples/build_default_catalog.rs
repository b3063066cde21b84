//! Builds `assets/catalog/default.csv`, the catalog embedded in the binary,
//! from the two shared catalogs (see `melodora_music::build_default_catalog`
//! for what goes in):
//!
//! ```text
//! cargo run -p melodora-music --example build_default_catalog -- \
//!     ../shared/catalogs assets/catalog/default.csv
//! ```

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [catalogs, out] = args.as_slice() else {
        return Err("usage: build_default_catalog <shared/catalogs dir> <out.csv>".into());
    };
    let (csv, notes) = melodora_music::build_default_catalog(Path::new(catalogs))?;
    for note in notes {
        eprintln!("{note}");
    }
    std::fs::write(out, &csv)?;
    eprintln!("wrote {} rows to {out}", csv.lines().count() - 1);
    Ok(())
}
