//! The path grammar through the runtime: `run.at(..)` and `handler.at(..)`
//! give the verdict and offset of `hippocamp_core::path::validate`, the one
//! grammar the macros use too (the cases of `path/src/lib.rs`' tests).

use hippocamp_core::path::{validate, PathError, PathErrorKind, MAX_PATH_BYTES};
use hippocamp_core::typed::{kind, TypedPath};
use hippocamp_core::{Appendable, Error, Handler, LogOptions, Mode, Run, Value};

const VALID: &[&str] = &[
    "a",
    "train/loss",
    "cv/fold_0/acc",
    "params/learning rate",
    "métriques/précision",
    "a.b-c/d e/ß",
    "0/1/2",
    "emoji/🦀",
    "a/b/c/d/e/f/g/h",
    "sp ace/in side",
];

/// Invalid paths with the rule and offset `validate` gives.
fn invalid() -> Vec<(String, PathErrorKind, usize)> {
    let mut cases: Vec<(String, PathErrorKind, usize)> = [
        ("", PathErrorKind::Empty, 0),
        ("/a", PathErrorKind::LeadingSeparator, 0),
        ("/", PathErrorKind::LeadingSeparator, 0),
        ("a/", PathErrorKind::TrailingSeparator, 1),
        ("a//b", PathErrorKind::EmptySegment, 2),
        ("a/b//", PathErrorKind::TrailingSeparator, 4),
        ("a/ b", PathErrorKind::LeadingWhitespace, 2),
        ("a/b /c", PathErrorKind::TrailingWhitespace, 3),
        (" a", PathErrorKind::LeadingWhitespace, 0),
        ("a/b\nc", PathErrorKind::ControlCharacter('\n'), 3),
        ("\ta", PathErrorKind::ControlCharacter('\t'), 0),
        ("a/\u{7f}", PathErrorKind::ControlCharacter('\u{7f}'), 2),
        ("a/\0", PathErrorKind::ControlCharacter('\0'), 2),
        ("ab\u{3000}", PathErrorKind::TrailingWhitespace, 2),
        ("x/\u{a0}y", PathErrorKind::LeadingWhitespace, 2),
    ]
    .into_iter()
    .map(|(p, k, o)| (p.to_owned(), k, o))
    .collect();
    cases.push((
        "a".repeat(MAX_PATH_BYTES + 1),
        PathErrorKind::TooLong(MAX_PATH_BYTES + 1),
        MAX_PATH_BYTES,
    ));
    cases.push((
        format!("{}//", "a".repeat(MAX_PATH_BYTES)),
        PathErrorKind::TooLong(MAX_PATH_BYTES + 2),
        MAX_PATH_BYTES,
    ));
    cases
}

fn new_run() -> Run {
    Run::builder()
        .project("paths")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

/// The runtime's verdict on `handler`: `Ok` if a write and a read there
/// work, else the path error every operation reports.
fn runtime_verdict(handler: &Handler) -> Result<(), (String, PathError)> {
    let to_path_error = |err: Error| match err {
        Error::InvalidPath { path, source } => (path, source),
        other => panic!(
            "expected InvalidPath at {:?}, got {other:?}",
            handler.path()
        ),
    };
    match handler.assign(7) {
        Ok(()) => {
            assert_eq!(
                handler.fetch().unwrap(),
                Value::Int(7),
                "{:?}",
                handler.path()
            );
            Ok(())
        }
        Err(err) => {
            let first = to_path_error(err);
            // Every operation, reads included, reports the same.
            for other in [
                handler.fetch().map(drop),
                handler.append(1.0),
                handler.add(["a"]),
                handler.upload_bytes(vec![1], "f"),
                handler.field_type().map(drop),
                handler.delete(),
            ] {
                assert_eq!(to_path_error(other.unwrap_err()), first);
            }
            Err(first)
        }
    }
}

#[test]
fn the_cases_agree_with_validate() {
    for &p in VALID {
        assert_eq!(validate(p), Ok(()), "{p:?}");
    }
    for (p, kind, offset) in invalid() {
        assert_eq!(
            validate(&p),
            Err(PathError { offset, kind }),
            "{:?}",
            p.get(..20)
        );
    }
}

#[test]
fn run_at_gives_the_verdict_of_validate() {
    for &p in VALID {
        let run = new_run();
        assert_eq!(runtime_verdict(&run.at(p)), Ok(()), "{p:?}");
        assert_eq!(runtime_verdict(&run.root().at(p)), Ok(()), "{p:?}");
        assert_eq!(run.at(p).path(), p);
    }
    for (p, kind, offset) in invalid() {
        let run = new_run();
        let expected = PathError { offset, kind };
        assert_eq!(
            runtime_verdict(&run.at(p.as_str())),
            Err((p.clone(), expected.clone()))
        );
        assert_eq!(
            runtime_verdict(&run.at(p.clone())),
            Err((p.clone(), expected.clone()))
        );
        assert_eq!(runtime_verdict(&run.at(&p)), Err((p.clone(), expected)));
        assert!(
            run.structure().unwrap().is_empty(),
            "{p:?} created something"
        );
    }
}

#[test]
fn handler_at_reports_offsets_in_the_joined_path() {
    for base in ["base", "x/y", "métriques"] {
        let shift = base.len() + 1;
        for &p in VALID {
            let run = new_run();
            let h = run.at(base).at(p);
            assert_eq!(h.path(), format!("{base}/{p}"));
            assert_eq!(runtime_verdict(&h), Ok(()), "{base} + {p:?}");
        }
        for (p, kind, offset) in invalid() {
            let run = new_run();
            let joined = if p.is_empty() {
                base.to_owned()
            } else {
                format!("{base}/{p}")
            };
            let (path, error) = runtime_verdict(&run.at(base).at(p.as_str()))
                .expect_err("an invalid relative path is refused");
            assert_eq!(path, joined);
            match kind.clone() {
                PathErrorKind::TooLong(_) => {
                    let len = shift + p.len();
                    assert_eq!(error.kind, PathErrorKind::TooLong(len));
                    assert_eq!(error.offset, MAX_PATH_BYTES);
                }
                kind => {
                    // The rule the relative part breaks, at its offset in
                    // the joined path.
                    assert_eq!(error.kind, kind, "{base} + {p:?}");
                    assert_eq!(error.offset, offset + shift, "{base} + {p:?}");
                }
            }
            // Where `validate` refuses the joined path, it says the same
            // offset. ("" and "/a" are the relative part's own rules:
            // `validate` sees "base" as fine and "base//a" as an empty
            // segment, at that same offset.)
            if let Err(whole) = validate(&joined) {
                assert_eq!(error.offset, whole.offset, "{base} + {p:?}");
                if !matches!(kind, PathErrorKind::Empty | PathErrorKind::LeadingSeparator) {
                    assert_eq!(error.kind, whole.kind, "{base} + {p:?}");
                }
            }
            assert!(
                run.structure().unwrap().is_empty(),
                "{p:?} created something"
            );
        }
    }
}

#[test]
fn the_length_limit_is_on_the_joined_path() {
    let run = new_run();
    let base = "b".repeat(100);
    let ns = run.at(base.as_str());
    // Exactly 1024 bytes joined: accepted.
    let rel = "r".repeat(MAX_PATH_BYTES - 101);
    assert_eq!(runtime_verdict(&ns.at(rel.as_str())), Ok(()));
    // One more: refused as validate refuses the joined path.
    let rel = "r".repeat(MAX_PATH_BYTES - 100);
    let joined = format!("{base}/{rel}");
    assert_eq!(
        runtime_verdict(&ns.at(rel.as_str())),
        Err((joined.clone(), validate(&joined).unwrap_err()))
    );
    // A relative path that breaks a rule and makes the joined path too
    // long: the length, as `validate` on the joined path says.
    let rel = format!("{}//x", "r".repeat(MAX_PATH_BYTES - 100));
    let joined = format!("{base}/{rel}");
    let expected = validate(&joined).unwrap_err();
    assert!(matches!(expected.kind, PathErrorKind::TooLong(_)));
    assert_eq!(
        runtime_verdict(&ns.at(rel.as_str())),
        Err((joined, expected))
    );
    // Nested handlers add up.
    let deep = run
        .at("a".repeat(500))
        .at("b".repeat(500))
        .at("c".repeat(22));
    assert_eq!(deep.path().len(), MAX_PATH_BYTES);
    assert_eq!(runtime_verdict(&deep), Ok(()));
    let deeper = run
        .at("a".repeat(500))
        .at("b".repeat(500))
        .at("c".repeat(23));
    match runtime_verdict(&deeper) {
        Err((_, error)) => assert_eq!(error.kind, PathErrorKind::TooLong(1025)),
        Ok(()) => panic!("1025 bytes accepted"),
    }
}

#[test]
fn an_invalid_base_is_reported_under_every_child() {
    let run = new_run();
    let bad = run.at("a//b");
    for rel in ["c", "c/d", "valid"] {
        let (path, error) = runtime_verdict(&bad.at(rel)).unwrap_err();
        assert_eq!(path, format!("a//b/{rel}"));
        assert_eq!(
            error,
            PathError {
                offset: 2,
                kind: PathErrorKind::EmptySegment
            }
        );
    }
}

#[test]
fn typed_paths_and_relative_logging_get_the_same_verdicts() {
    for (p, kind, offset) in invalid() {
        let run = new_run();
        let typed: TypedPath<kind::Float> = TypedPath::new(p.clone());
        match run.at(&typed).assign(1.0).unwrap_err() {
            Error::InvalidPath { path, source } => {
                assert_eq!(path, p);
                assert_eq!(
                    source,
                    PathError {
                        offset,
                        kind: kind.clone()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        // A relative path given to the logging traits (what `log!` and the
        // derive call) is checked the same way, after the handler's path.
        if !p.is_empty() {
            let ns = run.at("ns");
            match Appendable::append_at(&1.0, &ns, &p, &LogOptions::new()).unwrap_err() {
                Error::InvalidPath { path, source } => {
                    assert_eq!(path, format!("ns/{p}"));
                    if !matches!(kind, PathErrorKind::TooLong(_)) {
                        assert_eq!(
                            source,
                            PathError {
                                offset: offset + 3,
                                kind
                            }
                        );
                    } else {
                        assert_eq!(source.offset, MAX_PATH_BYTES);
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(run.structure().unwrap().is_empty());
    }
    let run = new_run();
    for (i, &p) in VALID.iter().enumerate() {
        // Each under its own namespace: "a" and "a/b/…" are both cases.
        let ns = run.at(format!("typed/{i}"));
        let typed: TypedPath<kind::Float> = TypedPath::new(p);
        ns.at(&typed).assign(0.5).unwrap();
        assert_eq!(ns.at(&typed).fetch().unwrap(), 0.5);
        Appendable::append_at(&1.0, &ns, &format!("series/{p}"), &LogOptions::new()).unwrap();
        assert_eq!(
            ns.at(format!("series/{p}")).fetch_last().unwrap().value,
            Value::Float(1.0)
        );
    }
}

#[test]
fn a_too_long_path_names_a_character_boundary() {
    // `é` (2 bytes) straddles the 1024-byte limit of the joined path.
    let run = new_run();
    let base = "b".repeat(100);
    let rel = format!("{}é/x", "r".repeat(MAX_PATH_BYTES - 102));
    let joined = format!("{base}/{rel}");
    assert_eq!(joined.find('é'), Some(MAX_PATH_BYTES - 1));
    let (path, error) = runtime_verdict(&run.at(base.as_str()).at(rel.as_str()))
        .expect_err("1027 bytes are refused");
    assert_eq!(path, joined);
    assert_eq!(error.kind, PathErrorKind::TooLong(joined.len()));
    assert_eq!(error.offset, MAX_PATH_BYTES - 1, "the start of `é`");
    assert_eq!(error, validate(&joined).unwrap_err());
    // A whole path from the run's root, and a key of a Serde map.
    let (_, error) = runtime_verdict(&run.at(joined.as_str())).unwrap_err();
    assert_eq!(error.offset, MAX_PATH_BYTES - 1);
    let key = format!("{}🦀", "k".repeat(MAX_PATH_BYTES - 6));
    let err = run
        .at("cfg")
        .assign(hippocamp_core::Serde(std::collections::BTreeMap::from([(
            key.as_str(),
            1,
        )])))
        .unwrap_err();
    match err {
        Error::InvalidPath { path, source } => {
            assert!(path.is_char_boundary(source.offset), "{source:?}");
            assert_eq!(&path[source.offset..], "🦀");
        }
        other => panic!("{other:?}"),
    }
}
