//! Printing a dry run's plan, one line per change.

use std::collections::HashMap;
use std::io::{self, Write};

use idsync_core::{EntryId, PlannedChange};

/// Writes one readable line per planned change.
pub fn print_plan(
    out: &mut dyn Write,
    changes: &[PlannedChange],
    names: &HashMap<EntryId, String>,
) -> io::Result<()> {
    let name = |id: &EntryId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    for change in changes {
        match change {
            PlannedChange::Create {
                kind,
                name: n,
                fields,
                ..
            } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(field, value)| format!("{field}={value:?}"))
                    .collect();
                writeln!(out, "create {kind} {n} ({})", fields.join(", "))?;
            }
            PlannedChange::Adopt { kind, name: n, .. } => {
                writeln!(out, "adopt existing {kind} {n}")?;
            }
            PlannedChange::Update {
                name: n, fields, ..
            } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(field, old, new)| format!("{field}: {} → {}", shown(old), shown(new)))
                    .collect();
                writeln!(out, "update {n}: {}", fields.join("; "))?;
            }
            PlannedChange::Rename { from, to, .. } => writeln!(out, "rename {from} → {to}")?,
            PlannedChange::Disable { name: n, .. } => writeln!(out, "disable {n}")?,
            PlannedChange::Enable { name: n, .. } => writeln!(out, "enable {n}")?,
            PlannedChange::Delete { name: n, .. } => writeln!(out, "delete {n}")?,
            PlannedChange::AddMember { group, member } => {
                writeln!(out, "add {} to group {}", name(member), name(group))?;
            }
            PlannedChange::RemoveMember { group, member } => {
                writeln!(out, "remove {} from group {}", name(member), name(group))?;
            }
            PlannedChange::Quarantine {
                name: n, reason, ..
            } => writeln!(out, "refuse {n}: {reason}")?,
        }
    }
    Ok(())
}

/// A field value for the plan: quoted, or `(none)`.
fn shown(value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(|| "(none)".to_owned(), |value| format!("{value:?}"))
}
