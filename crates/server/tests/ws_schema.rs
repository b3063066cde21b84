//! `docs/ws-protocol.schema.json` is what the message types generate: the
//! written contract of `/ws` cannot drift from the code. After changing a
//! message, regenerate it with
//! `MELODORA_BLESS=1 cargo test -p melodora-server --test ws_schema`, then
//! the page's types with `node scripts/ws_types.mjs`.

use std::path::PathBuf;

use serde_json::Value;

fn schema_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ws-protocol.schema.json")
}

#[test]
fn the_committed_schema_is_what_the_types_generate() {
    let generated =
        serde_json::to_string_pretty(&melodora_server::ws_protocol_schema()).unwrap() + "\n";
    let path = schema_file();
    if std::env::var_os("MELODORA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from what the message types generate; regenerate it with \
         MELODORA_BLESS=1 cargo test -p melodora-server --test ws_schema",
        path.display()
    );
}

/// Every message the server's own tests send or receive fits the schema's
/// shape: each variant is an object whose `type` names it.
#[test]
fn each_message_is_tagged_by_its_type() {
    let schema = melodora_server::ws_protocol_schema();
    for (side, expected) in [
        (
            "ClientMessage",
            &[
                "mode",
                "source",
                "feedback",
                "refresh",
                "mood",
                "manual",
                "calibrate",
                "uncalibrate",
                "played",
            ][..],
        ),
        (
            "ServerMessage",
            &[
                "hello",
                "frame",
                "songs",
                "calibration",
                "feedback",
                "played",
                "dropped",
                "error",
            ][..],
        ),
    ] {
        let variants = schema["$defs"][side]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{side}: {schema}"));
        let tags: Vec<&str> = variants
            .iter()
            .map(|variant| tag_of(variant).unwrap_or_else(|| panic!("{side}: untagged {variant}")))
            .collect();
        assert_eq!(tags, expected, "{side}");
    }
}

/// The one value a variant's `type` property may take.
fn tag_of(variant: &Value) -> Option<&str> {
    let property = &variant["properties"]["type"];
    let required = variant["required"].as_array()?;
    if !required.iter().any(|r| r == "type") {
        return None;
    }
    match property["enum"].as_array() {
        Some(values) if values.len() == 1 => values[0].as_str(),
        _ => property["const"].as_str(),
    }
}
