//! Several threads logging to one run: nothing lost, nothing duplicated,
//! steps strictly increasing per series.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;

use hippocamp_core::typed::{kind, Typed};
use hippocamp_core::{Error, Handler, Mode, Point, Run, Structure, Value};

const fn assert_send_sync<T: Send + Sync>() {}
const fn assert_clone<T: Clone>() {}
const _: () = {
    assert_send_sync::<Run>();
    assert_clone::<Run>();
    assert_send_sync::<Handler>();
    assert_clone::<Handler>();
    assert_send_sync::<Typed<kind::FloatSeries>>();
    assert_send_sync::<Typed<kind::Namespace>>();
    assert_send_sync::<Error>();
    assert_send_sync::<Value>();
    assert_send_sync::<Point>();
    assert_send_sync::<Structure>();
};

fn new_run() -> Run {
    Run::builder()
        .project("threads")
        .mode(Mode::Debug)
        .start()
        .expect("a debug run starts")
}

fn float(p: &Point) -> f64 {
    match p.value {
        Value::Float(x) => x,
        ref other => panic!("not a float: {other:?}"),
    }
}

#[test]
fn eight_threads_each_append_ten_thousand_points_to_their_own_series() {
    const THREADS: usize = 8;
    const POINTS: usize = 10_000;
    let run = new_run();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let run = run.clone();
            let start = start.clone();
            thread::spawn(move || {
                let loss = run.at(format!("workers/{t}/loss"));
                start.wait();
                for i in 0..POINTS {
                    loss.append((t * POINTS + i) as f64)?;
                    if i % 1000 == 0 {
                        // Other operations on the same run in between.
                        run.at(format!("workers/{t}/progress")).assign(i)?;
                    }
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic").expect("no error");
    }
    for t in 0..THREADS {
        let points = run.at(format!("workers/{t}/loss")).fetch_values().unwrap();
        assert_eq!(points.len(), POINTS, "worker {t}");
        for (i, p) in points.iter().enumerate() {
            assert_eq!(p.step, i as f64, "worker {t}");
            assert_eq!(float(p), (t * POINTS + i) as f64, "worker {t}");
        }
        assert_eq!(
            run.at(format!("workers/{t}/progress")).fetch().unwrap(),
            Value::Int(9000)
        );
    }
}

#[test]
fn a_shared_series_with_default_steps_gets_every_point_once() {
    const THREADS: usize = 4;
    const POINTS: usize = 5_000;
    let run = new_run();
    let shared = run.at("shared/loss");
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            // Half the threads share one handler's clones, half make their own.
            let handler = if t % 2 == 0 {
                shared.clone()
            } else {
                run.at("shared").at("loss")
            };
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for i in 0..POINTS {
                    handler.append((t * POINTS + i) as f64)?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic").expect("no error");
    }
    let points = shared.fetch_values().unwrap();
    assert_eq!(points.len(), THREADS * POINTS);
    // Steps 0..N-1: no gap, no duplicate.
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.step, i as f64);
    }
    // Every value once, and each thread's values in its own order.
    let values: Vec<usize> = points.iter().map(|p| float(p) as usize).collect();
    let distinct: BTreeSet<usize> = values.iter().copied().collect();
    assert_eq!(distinct, (0..THREADS * POINTS).collect::<BTreeSet<_>>());
    for t in 0..THREADS {
        let mine: Vec<usize> = values.iter().copied().filter(|v| v / POINTS == t).collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "thread {t} out of order"
        );
    }
    assert_eq!(
        shared.fetch_last().unwrap().step,
        (THREADS * POINTS - 1) as f64
    );
}

#[test]
fn racing_explicit_steps_are_stored_or_refused_never_both_nor_lost() {
    // Thread t logs steps t, t+4, t+8, …: unique, interleaved, racing. A
    // step that arrives after a higher one is refused as not increasing;
    // every other one is stored, once, in step order.
    const THREADS: usize = 4;
    const PER_THREAD: usize = 5_000;
    let run = new_run();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = run.at("race/acc");
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let mut stored = Vec::new();
                for k in 0..PER_THREAD {
                    let step = (k * THREADS + t) as f64;
                    match h.append_at(step, step * 10.0) {
                        Ok(()) => stored.push(step),
                        Err(Error::StepNotIncreasing {
                            path,
                            step: refused,
                            last,
                        }) => {
                            assert_eq!(path, "race/acc");
                            assert_eq!(refused, step);
                            assert!(last > step, "refused {step} after {last}");
                        }
                        Err(other) => panic!("{other:?}"),
                    }
                }
                stored
            })
        })
        .collect();
    let mut accepted: Vec<f64> = Vec::new();
    for worker in workers {
        accepted.extend(worker.join().expect("no panic"));
    }
    accepted.sort_by(f64::total_cmp);
    let points = run.at("race/acc").fetch_values().unwrap();
    let steps: Vec<f64> = points.iter().map(|p| p.step).collect();
    assert_eq!(
        steps, accepted,
        "stored points are exactly the accepted ones"
    );
    assert!(steps.windows(2).all(|w| w[0] < w[1]));
    for p in &points {
        assert_eq!(float(p), p.step * 10.0);
    }
    assert!(!points.is_empty());
}

#[test]
fn explicit_steps_taken_in_turn_by_four_threads_are_all_stored() {
    // The same interleaving, in turn: every step is stored.
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    let run = new_run();
    let turn = Arc::new((Mutex::new(0usize), Condvar::new()));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = run.at("turns/acc");
            let turn = turn.clone();
            thread::spawn(move || {
                for k in 0..PER_THREAD {
                    let step = k * THREADS + t;
                    let (lock, cv) = &*turn;
                    let mut next = cv
                        .wait_while(lock.lock().unwrap(), |next| *next != step)
                        .unwrap();
                    h.append_at(step, t as f64)?;
                    *next += 1;
                    cv.notify_all();
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic").expect("no error");
    }
    let points = run.at("turns/acc").fetch_values().unwrap();
    assert_eq!(points.len(), THREADS * PER_THREAD);
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.step, i as f64);
        assert_eq!(float(p), (i % THREADS) as f64);
    }
}

#[test]
fn threads_creating_the_same_paths_agree_on_one_field() {
    // All race to create the same fields; one type wins per path, and the
    // others get the type errors, never a second field.
    const THREADS: usize = 4;
    let run = new_run();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let run = run.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let mut ok = 0;
                for i in 0..200 {
                    let h = run.at(format!("contested/{i}"));
                    let result = if t % 2 == 0 {
                        h.assign(t as i64)
                    } else {
                        h.append(t as f64)
                    };
                    match result {
                        Ok(()) => ok += 1,
                        Err(Error::TypeMismatch { .. } | Error::UnsupportedOperation { .. }) => {}
                        Err(other) => panic!("{other:?}"),
                    }
                }
                ok
            })
        })
        .collect();
    let total: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(total >= 200);
    let s = run.structure().unwrap();
    let Some(hippocamp_core::structure::Entry::Namespace(children)) = s.get("contested") else {
        panic!("{s}")
    };
    assert_eq!(children.len(), 200);
}
