//! Installing a wiki: MediaWiki's installer into a golden template once, then a copy per wiki.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::daemon;
use crate::error::ServerError;
use crate::golden;
use crate::mariadb;
use crate::postgres;
use crate::sql_client::SqlClient;

use super::{MediaWiki, MwBackend, MwKind, ADMIN, ADMIN_PASSWORD, DB_PASSWORD, DB_USER, PG_SCHEMA};

/// The name used in errors.
const SERVER: &str = "mediawiki";
/// Bumped when the template recipe changes.
const RECIPE: &str = "r2";
/// The wiki's name (`$wgSitename`).
const SITE_NAME: &str = "IdsyncTestWiki";
/// The SQLite database name (file `data/wiki.sqlite`).
const SQLITE_DB: &str = "wiki";
/// The SQLite tables to prefix: not SQLite's own, not the shadow tables of a virtual (FTS)
/// table, which follow their table's renames.
const SQLITE_TABLES: &str = "SELECT t.name FROM sqlite_master t
    WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
      AND NOT EXISTS (SELECT 1 FROM sqlite_master v
                      WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
                        AND t.name LIKE v.name || '\\_%' ESCAPE '\\')";
/// Numbers databases `wiki_N` (and golden build databases) within this process.
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(1);

/// Where MediaWiki is: `$MW_INSTALL_PATH` or Debian's `/usr/share/mediawiki`.
pub(super) fn mediawiki_dir() -> PathBuf {
    std::env::var_os("MW_INSTALL_PATH")
        .map_or_else(|| PathBuf::from("/usr/share/mediawiki"), PathBuf::from)
}

/// The PHP CLI.
pub(super) fn php() -> Result<PathBuf, ServerError> {
    daemon::find_program("php").ok_or_else(|| ServerError::Unavailable {
        server: SERVER,
        why: "no `php` (install the Debian package php-cli)".to_owned(),
    })
}

/// A `php` command in MediaWiki's directory with a clean environment.
pub(super) fn php_command() -> Result<Command, ServerError> {
    let mut command = daemon::clean_command(&php()?, &mediawiki_dir());
    command.env("MW_INSTALL_PATH", mediawiki_dir());
    Ok(command)
}

/// `Ok` when PHP, MediaWiki and the PHP database extensions are installed.
pub(super) fn available() -> Result<(), String> {
    let php = daemon::find_program("php").ok_or("no `php` (Debian package php-cli)")?;
    let installer = mediawiki_dir().join("maintenance/install.php");
    if !installer.is_file() {
        return Err(format!(
            "no {} (Debian package mediawiki)",
            installer.display()
        ));
    }
    let modules = Command::new(php)
        .arg("-m")
        .output()
        .map_err(|error| format!("php -m: {error}"))?;
    let modules = String::from_utf8_lossy(&modules.stdout).to_lowercase();
    let missing: Vec<&str> = ["pdo_sqlite", "pgsql", "mysqli"]
        .into_iter()
        .filter(|module| !modules.lines().any(|line| line.trim() == *module))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "PHP lacks {} (Debian packages php-sqlite3, php-pgsql, php-mysql)",
            missing.join(", ")
        ))
    }
}

/// Installs a wiki: the golden template for (backend, prefix), then a copy.
pub(super) fn install(backend: MwBackend<'_>, prefix: &str) -> Result<MediaWiki, ServerError> {
    available().map_err(|why| ServerError::Unavailable {
        server: SERVER,
        why,
    })?;
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ServerError::Options {
            server: SERVER,
            reason: format!("table prefix `{prefix}`: only ASCII letters, digits and `_`"),
        });
    }
    let kind = backend.kind();
    if kind == MwKind::Postgres && !prefix.is_empty() {
        // MWLBFactory::reportIfPrefixSet: "MediaWiki does not support using a table prefix
        // with this RDBMS type" (checked with 1.39 on renamed tables).
        return Err(ServerError::Options {
            server: SERVER,
            reason: "MediaWiki does not support table prefixes on PostgreSQL".to_owned(),
        });
    }
    let server_stamp = match backend {
        MwBackend::Sqlite => "file".to_owned(),
        MwBackend::MariaDb(server) => format!("my{}", server_stamp(&server.client())),
        MwBackend::Postgres(server) => golden::program_stamp(&server.bin_dir().join("pg_dump")),
    };
    let key = format!(
        "mediawiki-{}-{}-{}-{server_stamp}-{RECIPE}",
        golden::program_stamp(&mediawiki_dir().join("includes/Defines.php")),
        kind.dbtype(),
        if prefix.is_empty() { "-" } else { prefix },
    );
    let template = golden::template(SERVER, &key, None, |dir| {
        build_template(backend, prefix, dir)
    })?;
    let dir = daemon::temp_dir(SERVER, "idsync-mw-", None)?;
    let settings = std::fs::read_to_string(template.join("LocalSettings.php"))
        .map_err(ServerError::io("read", template.join("LocalSettings.php")))?;
    let local_settings = dir.path().join("LocalSettings.php");
    let (settings, url, database, sql) = match backend {
        MwBackend::Sqlite => {
            let data = dir.path().join("data");
            golden::copy_tree(&template.join("data"), &data)?;
            let settings = set_setting(&settings, "wgSQLiteDataDir", &data.to_string_lossy());
            let file = data.join(format!("{SQLITE_DB}.sqlite"));
            let url = format!("sqlite://{}", file.display());
            (
                settings,
                url,
                SQLITE_DB.to_owned(),
                SqlClient::sqlite(&file),
            )
        }
        MwBackend::MariaDb(server) => {
            let database = next_database("wiki");
            let client = server.client();
            restore_mariadb(&client, &template.join("dump.sql"), &database)?;
            let settings = set_setting(
                &settings,
                "wgDBserver",
                &format!("127.0.0.1:{}", server.port()),
            );
            let settings = set_setting(&settings, "wgDBname", &database);
            let url = format!(
                "mysql://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{}/{database}",
                server.port()
            );
            (settings, url, database, client)
        }
        MwBackend::Postgres(server) => {
            let database = next_database("wiki");
            let client = server.client();
            restore_postgres(&client, &template.join("dump.sql"), &database)?;
            let settings = set_setting(&settings, "wgDBport", &server.port().to_string());
            let settings = set_setting(&settings, "wgDBname", &database);
            let url = format!(
                "postgres://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{}/{database}",
                server.port()
            );
            (settings, url, database, client)
        }
    };
    // No object cache, whatever the installer found (php-apcu, a Recommends of the package,
    // would make it cache user rows for an hour): the checker must see rows as written.
    let settings = format!("{settings}$wgMainCacheType = CACHE_NONE;\n");
    std::fs::write(&local_settings, settings).map_err(ServerError::io("write", &local_settings))?;
    Ok(MediaWiki {
        kind,
        url,
        prefix: prefix.to_owned(),
        database,
        local_settings,
        sql,
        dir,
        server: None,
    })
}

/// A fresh database name `BASE_PID_N` (unique on a server shared by several processes too).
fn next_database(base: &str) -> String {
    format!(
        "{base}_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    )
}

/// The MariaDB server version, for template keys (dumps are restored on the same version).
fn server_stamp(client: &SqlClient) -> String {
    client
        .query(None, "SELECT VERSION()")
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .and_then(|row| row.into_iter().next().flatten())
        .map(|version| {
            version
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect()
        })
        .unwrap_or_default()
}

/// Runs MediaWiki's installer for `backend` into `dir` (`LocalSettings.php`, and `data/` on
/// SQLite or `dump.sql` of a scratch database on a server, which is dropped afterwards).
fn build_template(backend: MwBackend<'_>, prefix: &str, dir: &Path) -> Result<(), ServerError> {
    let mut command = php_command()?;
    command
        .arg(mediawiki_dir().join("maintenance/install.php"))
        .arg("--dbtype")
        .arg(backend.kind().dbtype());
    match backend {
        MwBackend::Sqlite => {
            let data = dir.join("data");
            std::fs::create_dir(&data).map_err(ServerError::io("create", &data))?;
            command
                .arg("--dbpath")
                .arg(&data)
                .args(["--dbname", SQLITE_DB]);
            run_installer(command, dir, "")?;
            if prefix.is_empty() {
                return Ok(());
            }
            let client = SqlClient::sqlite(&data.join(format!("{SQLITE_DB}.sqlite")));
            let tables = client.query(None, SQLITE_TABLES)?;
            add_prefix(&client, None, &tables, prefix, |table| {
                format!("\"{table}\"")
            })?;
            prefix_setting(dir, prefix)
        }
        MwBackend::MariaDb(server) => {
            let database = next_database("idsync_mw_golden");
            command
                .args(["--dbserver", &format!("127.0.0.1:{}", server.port())])
                .args(["--dbname", &database])
                .args(["--dbuser", DB_USER, "--dbpass", DB_PASSWORD])
                .args(["--installdbuser", mariadb::USER])
                .args(["--installdbpass", mariadb::PASSWORD]);
            run_installer(command, dir, prefix)?;
            let client = server.client();
            let mut dump = daemon::clean_command(
                &daemon::find_program("mariadb-dump")
                    .or_else(|| daemon::find_program("mysqldump"))
                    .ok_or_else(|| ServerError::Unavailable {
                        server: SERVER,
                        why: "no mariadb-dump".to_owned(),
                    })?,
                dir,
            );
            dump.arg("--no-defaults")
                .arg(format!("--socket={}", server.socket().display()))
                .args([
                    "--user=root",
                    "--single-transaction",
                    "--skip-comments",
                    "--skip-dump-date",
                ])
                .arg(&database);
            write_dump(dump, &dir.join("dump.sql"))?;
            client.execute(None, &format!("DROP DATABASE {database}"))
        }
        MwBackend::Postgres(server) => {
            let database = next_database("idsync_mw_golden");
            command
                .args(["--dbserver", "127.0.0.1"])
                .args(["--dbport", &server.port().to_string()])
                .args(["--dbname", &database, "--dbschema", PG_SCHEMA])
                .args(["--dbuser", DB_USER, "--dbpass", DB_PASSWORD])
                .args([
                    "--installdbuser",
                    postgres::SUPERUSER,
                    "--installdbpass",
                    "",
                ]);
            run_installer(command, dir, "")?;
            let mut dump = daemon::clean_command(&server.bin_dir().join("pg_dump"), dir);
            dump.arg("-h")
                .arg(server.socket_dir())
                .args(["-p", &server.port().to_string()])
                .args(["-U", postgres::SUPERUSER, "--no-comments", &database]);
            write_dump(dump, &dir.join("dump.sql"))?;
            server.execute(&format!("DROP DATABASE {database}"))
        }
    }
}

/// Renames every table in `tables` (first column) to `PREFIX` + name: MediaWiki's installer
/// offers table prefixes on MySQL/MariaDB only (on SQLite it forces `$wgDBprefix = ''`),
/// while its database layer honours `$wgDBprefix` on SQLite too (MediaWiki's own test suite
/// runs on prefixed SQLite tables). PostgreSQL refuses prefixes at run time.
fn add_prefix(
    client: &SqlClient,
    database: Option<&str>,
    tables: &crate::sql_client::Rows,
    prefix: &str,
    qualified: impl Fn(&str) -> String,
) -> Result<(), ServerError> {
    let mut sql = String::new();
    for table in tables
        .iter()
        .filter_map(|row| row.first().cloned().flatten())
    {
        daemon::check_identifier(SERVER, &table)?;
        sql.push_str(&format!(
            "ALTER TABLE {} RENAME TO \"{prefix}{table}\";\n",
            qualified(&table)
        ));
    }
    client.execute(database, &sql)
}

/// Sets `$wgDBprefix` in the template's `LocalSettings.php`.
fn prefix_setting(dir: &Path, prefix: &str) -> Result<(), ServerError> {
    let path = dir.join("LocalSettings.php");
    let text = std::fs::read_to_string(&path).map_err(ServerError::io("read", &path))?;
    std::fs::write(&path, set_setting(&text, "wgDBprefix", prefix))
        .map_err(ServerError::io("write", &path))
}

/// Adds the options every backend shares and runs the installer.
fn run_installer(mut command: Command, dir: &Path, prefix: &str) -> Result<(), ServerError> {
    command
        .arg("--confpath")
        .arg(dir)
        .args(["--server", "http://localhost", "--scriptpath", "/w"])
        .args(["--pass", ADMIN_PASSWORD, "--skins="]);
    if !prefix.is_empty() {
        command.args(["--dbprefix", prefix]);
    }
    command.args([SITE_NAME, ADMIN]);
    daemon::run_tool(
        command,
        None,
        "php maintenance/install.php (passwords masked)",
    )?;
    let settings = dir.join("LocalSettings.php");
    if settings.is_file() {
        Ok(())
    } else {
        Err(ServerError::Output {
            command: "php maintenance/install.php".to_owned(),
            reason: format!("it wrote no {}", settings.display()),
        })
    }
}

/// Runs a dump tool and writes its stdout to `file`.
fn write_dump(command: Command, file: &Path) -> Result<(), ServerError> {
    let shown = format!("{:?}", command.get_program());
    let output = daemon::run_tool(command, None, &shown)?;
    std::fs::write(file, output.stdout).map_err(ServerError::io("write", file))
}

/// Creates `database` and [`DB_USER`] (if needed) on MariaDB and loads the dump into it.
fn restore_mariadb(client: &SqlClient, dump: &Path, database: &str) -> Result<(), ServerError> {
    daemon::check_identifier(SERVER, database)?;
    let sql = std::fs::read_to_string(dump).map_err(ServerError::io("read", dump))?;
    let mut setup = format!("CREATE DATABASE {database};\n");
    for host in ["%", "localhost"] {
        setup.push_str(&format!(
            "CREATE USER IF NOT EXISTS '{DB_USER}'@'{host}' IDENTIFIED BY '{DB_PASSWORD}';\n\
             GRANT ALL ON {database}.* TO '{DB_USER}'@'{host}';\n"
        ));
    }
    client.execute(None, &setup)?;
    client.execute(Some(database), &sql)
}

/// Creates `database` and the role [`DB_USER`] (if needed) on PostgreSQL and loads the dump.
fn restore_postgres(client: &SqlClient, dump: &Path, database: &str) -> Result<(), ServerError> {
    daemon::check_identifier(SERVER, database)?;
    let sql = std::fs::read_to_string(dump).map_err(ServerError::io("read", dump))?;
    client.execute(
        None,
        &format!(
            "DO $$ BEGIN\n\
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_USER}') THEN\n\
                 CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}';\n\
               END IF;\n\
             END $$;\n\
             CREATE DATABASE {database};\n"
        ),
    )?;
    client.execute(Some(database), &sql)
}

/// `text` (PHP) with the assignment `$NAME = …;` replaced by `$NAME = 'VALUE';` (appended
/// when there is none).
fn set_setting(text: &str, name: &str, value: &str) -> String {
    let literal = format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"));
    let assignment = format!("${name} = {literal};");
    let head = format!("${name} ");
    let head_tight = format!("${name}=");
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with(&head) || trimmed.starts_with(&head_tight) {
                found = true;
                assignment.clone()
            } else {
                line.to_owned()
            }
        })
        .collect();
    if !found {
        out.push(assignment);
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_replaced_or_appended() {
        let text = "<?php\n$wgDBname = \"wiki\";\n$wgDBnameX = 1;\n";
        let out = set_setting(text, "wgDBname", "w_1");
        assert_eq!(out, "<?php\n$wgDBname = 'w_1';\n$wgDBnameX = 1;\n");
        let out = set_setting(text, "wgDBport", "5432");
        assert!(out.ends_with("$wgDBport = '5432';\n"));
        assert_eq!(set_setting("", "x", "a'b\\c"), "$x = 'a\\'b\\\\c';\n");
    }
}
