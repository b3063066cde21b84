//! Schema migrations: one numbered `.sql` file each, per backend
//! (`sqlite/migrations/`, `postgres/migrations/`), listed in order by each
//! backend's `schema` module. Both backends hold the same migrations under
//! the same names, each in its own SQL dialect; the tests below hold the
//! lists to their folders and to each other. Never edit a released
//! migration; add the next number to both.

/// One migration: its file name (without `.sql`) and its statements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// `NNNN_what`, as its file is named.
    pub name: &'static str,
    /// The statements, run as one batch in one transaction.
    pub sql: &'static str,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The `.sql` files of a backend's migrations folder, by name.
    fn files(backend: &str) -> Vec<String> {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/store")
            .join(backend)
            .join("migrations");
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|name| name.strip_suffix(".sql").map(str::to_string))
            .collect();
        names.sort();
        names
    }

    fn listed(migrations: &[super::Migration]) -> Vec<String> {
        migrations.iter().map(|m| m.name.to_string()).collect()
    }

    #[test]
    fn each_backend_lists_its_folder_in_order_and_both_hold_the_same_migrations() {
        let sqlite = listed(crate::store::sqlite::schema::MIGRATIONS);
        assert_eq!(
            sqlite,
            files("sqlite"),
            "sqlite/schema.rs against its folder"
        );
        assert_eq!(
            sqlite,
            files("postgres"),
            "the PostgreSQL folder against SQLite's"
        );
        #[cfg(feature = "postgres")]
        assert_eq!(
            listed(crate::store::postgres::schema::MIGRATIONS),
            files("postgres"),
            "postgres/schema.rs against its folder"
        );
        for (index, name) in sqlite.iter().enumerate() {
            assert!(
                name.starts_with(&format!("{:04}_", index + 1)),
                "{name} is not number {}",
                index + 1
            );
        }
    }
}
