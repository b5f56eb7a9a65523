//! `hippocamp tag`: adds (`+name`) and removes (`-name`) tags of a run.
//!
//! Only the items of the run's `sys/tags` change: the run is not resumed,
//! so a finished run stays finished, and a run being logged goes on.

use std::io::Write;

use hippocamp_core::sqlite::Repository;

use crate::args::TagArgs;
use crate::store::Context;
use crate::CliError;

/// Runs `hippocamp tag`.
pub fn run(ctx: &Context, args: TagArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (add, remove) = parse_changes(&args.changes)?;
    // Checks the store and the id (naming the nearest ids) first.
    ctx.run_info(&args.run)?;
    let mut repo = Repository::open_for_writing(ctx.dir())?;
    let tags = repo.set_tags(&args.run, &add, &remove)?;
    if tags.is_empty() {
        writeln!(out, "{}: no tags", args.run)?;
    } else {
        writeln!(out, "{}: {}", args.run, tags.join(", "))?;
    }
    Ok(())
}

/// Splits `+a -b +c` into the tags to add and to remove.
fn parse_changes(changes: &[String]) -> Result<(Vec<String>, Vec<String>), CliError> {
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for change in changes {
        // The tag list swallows what follows the run id, so an option
        // written after it (`--dir=…`, `--help`) would be read as removing a
        // tag named `-dir=…`: refuse it rather than run on another store.
        if change.starts_with("--") {
            return Err(CliError::new(format!(
                "`{change}` after the tags is read as a tag change; put options before the run                  id (`hippocamp --dir DIR tag RUN +a -b`)"
            )));
        }
        let (list, name) = if let Some(name) = change.strip_prefix('+') {
            (&mut add, name)
        } else if let Some(name) = change.strip_prefix('-') {
            (&mut remove, name)
        } else {
            return Err(CliError::new(format!(
                "`{change}` is not a tag change: write +{change} to add it, -{change} to remove it"
            )));
        };
        if name.trim().is_empty() {
            return Err(CliError::new(format!("`{change}` names no tag")));
        }
        list.push(name.to_owned());
    }
    if let Some(both) = add.iter().find(|t| remove.contains(t)) {
        return Err(CliError::new(format!(
            "tag `{both}` is both added and removed"
        )));
    }
    Ok((add, remove))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn changes_are_split() {
        let (add, remove) = parse_changes(&changes(&["+best", "-draft", "+cnn"])).unwrap();
        assert_eq!(
            (add, remove),
            (changes(&["best", "cnn"]), changes(&["draft"]))
        );
    }

    #[test]
    fn bad_changes_are_refused() {
        for bad in [
            &["best"][..],
            &["+"],
            &["+a", "-a"],
            &["+a", "--dir=/tmp/x"],
            &["--help"],
        ] {
            assert!(parse_changes(&changes(bad)).is_err(), "{bad:?}");
        }
    }
}
