//! The runs table: filters, columns (a series' last value from the
//! store's summaries), sorting, paging, paths no run has, damaged runs.

use hippocamp_core::filter::Expr;
use hippocamp_core::sqlite::{Repository, DATABASE_FILE};
use hippocamp_core::table::{RunsQuery, SortKey};
use hippocamp_core::{Error, Run, Value};

fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, lr) in [0.1, 0.01, 0.001, 0.0001].into_iter().enumerate() {
        let run = Run::builder()
            .project(if i < 3 { "mnist" } else { "cifar" })
            .tags(if i % 2 == 0 { vec!["even"] } else { vec![] })
            .dir(dir.path())
            .start()
            .unwrap();
        run.at("params/lr").assign(lr).unwrap();
        run.at("params/optimizer").assign("adam").unwrap();
        // Long enough for several chunks; its last value is the lr.
        run.at("train/loss")
            .extend((0..70_000).map(|s| 1.0 / (1.0 + s as f64)).chain([lr]))
            .unwrap();
        run.at("train/log").extend(["start", "end"]).unwrap();
        run.close().unwrap();
    }
    dir
}

#[test]
fn filters_columns_sort_and_pages() {
    let dir = store();
    let repo = Repository::open(dir.path()).unwrap();
    let query = RunsQuery {
        project: Some("mnist".into()),
        filter: Some(Expr::parse("params/lr < 0.05").unwrap()),
        columns: vec!["train/loss".into(), "train/log".into(), "sys/tags".into()],
        sort: Some(SortKey::parse("train/loss").unwrap()),
        desc: true,
        ..RunsQuery::default()
    };
    let table = repo.runs_table(&query).unwrap();
    assert_eq!(table.total, 2);
    let ids: Vec<&str> = table.rows.iter().map(|r| r.info.id.as_str()).collect();
    assert_eq!(ids, ["MNIST-2", "MNIST-3"]);
    let row = &table.rows[0];
    assert_eq!(row.fields["train/loss"], Value::Float(0.01));
    assert_eq!(row.fields["train/log"], Value::String("end".into()));
    assert!(table.missing.is_empty());
    // Tags, states and paging.
    let even = RunsQuery {
        tags: vec!["even".into()],
        state: Some("finished".into()),
        sort: Some(SortKey::Id),
        offset: 1,
        limit: Some(5),
        ..RunsQuery::default()
    };
    let table = repo.runs_table(&even).unwrap();
    assert_eq!(table.total, 2);
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.rows[0].info.id, "MNIST-3");
}

#[test]
fn paths_no_run_has_come_with_the_nearest() {
    let dir = store();
    let query = RunsQuery {
        filter: Some(Expr::parse("learning_rate > 0.01").unwrap()),
        columns: vec!["param".into()],
        ..RunsQuery::default()
    };
    let table = Repository::open(dir.path())
        .unwrap()
        .runs_table(&query)
        .unwrap();
    assert_eq!(table.total, 0);
    assert_eq!(table.considered, 4);
    let paths: Vec<&str> = table.missing.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, ["learning_rate", "param"]);
    // A top-level name suggests the namespaces first.
    assert_eq!(table.missing[0].nearest[0], "params", "{:?}", table.missing);
    assert_eq!(table.missing[1].nearest[0], "params");
}

#[test]
fn bad_queries_and_damaged_runs() {
    let dir = store();
    let repo = Repository::open(dir.path()).unwrap();
    let bad_state = RunsQuery {
        state: Some("done".into()),
        ..RunsQuery::default()
    };
    assert!(matches!(
        repo.runs_table(&bad_state),
        Err(Error::InvalidSetting {
            setting: "state",
            ..
        })
    ));
    let bad_column = RunsQuery {
        columns: vec!["a//b".into()],
        ..RunsQuery::default()
    };
    assert!(matches!(
        repo.runs_table(&bad_column),
        Err(Error::InvalidPath { .. })
    ));
    drop(repo);
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    conn.execute(
        "UPDATE fields SET text_value = 'x' WHERE path = 'sys/name'
         AND run = (SELECT run FROM runs WHERE id = 'MNIST-1')",
        [],
    )
    .unwrap();
    drop(conn);
    let query = RunsQuery {
        columns: vec!["params/lr".into()],
        ..RunsQuery::default()
    };
    let table = Repository::open(dir.path())
        .unwrap()
        .runs_table(&query)
        .unwrap();
    let damaged = table.rows.iter().find(|r| r.info.id == "MNIST-1").unwrap();
    assert_eq!(damaged.info.state, "damaged");
    assert!(damaged.fields.is_empty());
    assert_eq!(table.rows.len(), 4);
}
