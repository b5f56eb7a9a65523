//! A series over a step range, as a chart draws it: the points themselves
//! when they are few, else buckets that each hold a stretch of steps with
//! its count, first and last point, and exact minimum and maximum.
//!
//! Exact means that no point is sampled away: a spike one point wide is
//! the minimum or maximum of its bucket at every zoom. Buckets are made by
//! merging smaller exact pieces (single points, or the summaries a store
//! keeps of blocks of stored points), never by picking points, so a store
//! can answer a wide range from its summaries without decoding a point,
//! and decode only the stored points at the range's edges. The arithmetic
//! lives here, once, for every store.

use std::ops::{ControlFlow, RangeInclusive};

use crate::error::Error;
use crate::value::{Point, Value};

/// The number of buckets a window is asked for when nobody says.
pub const DEFAULT_BUCKETS: usize = 1000;

/// The most buckets a window may be asked for.
pub const MAX_BUCKETS: usize = 100_000;

/// A stretch of a series' steps, summarised.
///
/// ```
/// use hippocamp_core::window::Bucket;
/// use hippocamp_core::{Point, Value};
/// let point = |step: f64, x: f64| Point { step, value: Value::Float(x), timestamp: std::time::UNIX_EPOCH };
/// let mut bucket = Bucket::of_point(&point(0.0, 0.5));
/// bucket.absorb(Bucket::of_point(&point(1.0, f64::NAN)));
/// bucket.absorb(Bucket::of_point(&point(2.0, -3.0)));
/// assert_eq!((bucket.from, bucket.to, bucket.count), (0.0, 2.0, 3));
/// assert_eq!((bucket.min, bucket.max), (Some(-3.0), Some(0.5)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The step of its first point.
    pub from: f64,
    /// The step of its last point.
    pub to: f64,
    /// How many points it holds.
    pub count: u64,
    /// Its first point.
    pub first: Point,
    /// Its last point.
    pub last: Point,
    /// The smallest value of a FloatSeries' points in it, NaN left out
    /// (±Inf kept); `None` when all are NaN, and for other series.
    pub min: Option<f64>,
    /// The largest such value.
    pub max: Option<f64>,
}

impl Bucket {
    /// The bucket of one point.
    pub fn of_point(point: &Point) -> Bucket {
        let x = match point.value {
            Value::Float(x) if !x.is_nan() => Some(x),
            _ => None,
        };
        Bucket {
            from: point.step,
            to: point.step,
            count: 1,
            first: point.clone(),
            last: point.clone(),
            min: x,
            max: x,
        }
    }

    /// Takes in the bucket of the points that follow this one's.
    pub fn absorb(&mut self, next: Bucket) {
        self.to = next.to;
        self.count += next.count;
        self.last = next.last;
        self.min = match (self.min, next.min) {
            (Some(a), Some(b)) => Some(if b < a { b } else { a }),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, next.max) {
            (Some(a), Some(b)) => Some(if b > a { b } else { a }),
            (a, b) => a.or(b),
        };
    }
}

/// A series over a step range: what
/// [`Handler::fetch_window`](crate::Handler::fetch_window) returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesWindow {
    /// How many points the range holds.
    pub count: u64,
    /// The points, or buckets of them.
    pub content: WindowContent,
}

/// The points of a window, or its buckets.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowContent {
    /// Every point in the range (it holds at most twice the buckets asked).
    Points(Vec<Point>),
    /// At most as many buckets as asked, in step order, none empty.
    Buckets(Vec<Bucket>),
}

/// Folds pieces of a series, in step order, into at most `n` buckets of
/// equal width in steps between the first and last step of the range.
/// A piece lands in the bucket its first step falls in, so a piece wider
/// than a bucket makes that bucket wider (its `from`/`to` say so) and the
/// buckets it covers empty; empty buckets are left out.
pub(crate) struct Bucketing {
    lo: f64,
    width: f64,
    n: usize,
    current: Option<(usize, Bucket)>,
    done: Vec<Bucket>,
}

impl Bucketing {
    /// Buckets over the steps `lo..=hi` (the range's first and last step).
    pub(crate) fn new(lo: f64, hi: f64, n: usize) -> Bucketing {
        let n = n.max(1);
        let width = (hi - lo) / n as f64;
        Bucketing {
            lo,
            width,
            n,
            current: None,
            done: Vec::with_capacity(n.min(4096)),
        }
    }

    fn index(&self, step: f64) -> usize {
        if self.width.is_nan() || self.width <= 0.0 || self.width.is_infinite() {
            return 0;
        }
        let i = ((step - self.lo) / self.width).floor();
        if i <= 0.0 {
            0
        } else {
            (i as usize).min(self.n - 1)
        }
    }

    /// Takes the next piece.
    pub(crate) fn push(&mut self, piece: Bucket) {
        let index = self.index(piece.from);
        match &mut self.current {
            // A piece past a wide piece's end, but within the bucket that
            // piece started in, joins it.
            Some((at, bucket)) if *at >= index => bucket.absorb(piece),
            _ => {
                if let Some((_, bucket)) = self.current.take() {
                    self.done.push(bucket);
                }
                self.current = Some((index, piece));
            }
        }
    }

    /// Takes the next point.
    pub(crate) fn push_point(&mut self, point: &Point) {
        self.push(Bucket::of_point(point));
    }

    /// The buckets.
    pub(crate) fn finish(mut self) -> Vec<Bucket> {
        if let Some((_, bucket)) = self.current.take() {
            self.done.push(bucket);
        }
        self.done
    }
}

/// Reads points of a series over a step range, a chunk per call of the
/// callback it is given (as [`Store::read_range`](crate::store::Store::read_range)).
pub(crate) type ReadRange<'a> = dyn FnMut(RangeInclusive<f64>, &mut dyn FnMut(Vec<Point>) -> ControlFlow<()>) -> Result<(), Error>
    + 'a;

/// A window made from the points themselves, read twice: once to count
/// them and find the first and last step, once to keep or bucket them.
pub(crate) fn by_points(
    read: &mut ReadRange<'_>,
    steps: RangeInclusive<f64>,
    buckets: usize,
) -> Result<SeriesWindow, Error> {
    let (mut count, mut lo, mut hi) = (0u64, None, None);
    read(steps.clone(), &mut |points| {
        count += points.len() as u64;
        lo = lo.or(points.first().map(|p| p.step));
        hi = points.last().map(|p| p.step).or(hi);
        ControlFlow::Continue(())
    })?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(SeriesWindow {
            count,
            content: WindowContent::Points(Vec::new()),
        });
    };
    let content = if as_points(count, buckets) {
        let mut all = Vec::new();
        read(steps, &mut |points| {
            all.extend(points);
            ControlFlow::Continue(())
        })?;
        WindowContent::Points(all)
    } else {
        let mut bucketing = Bucketing::new(lo, hi, buckets);
        read(steps, &mut |points| {
            points.iter().for_each(|p| bucketing.push_point(p));
            ControlFlow::Continue(())
        })?;
        WindowContent::Buckets(bucketing.finish())
    };
    Ok(SeriesWindow { count, content })
}

/// Whether a range holding `count` points is answered with its points
/// rather than `buckets` buckets.
pub(crate) fn as_points(count: u64, buckets: usize) -> bool {
    count <= 2 * buckets as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn point(step: f64, x: f64) -> Point {
        Point {
            step,
            value: Value::Float(x),
            timestamp: UNIX_EPOCH,
        }
    }

    #[test]
    fn buckets_are_at_most_n_in_order_and_exact() {
        let points: Vec<Point> = (0..1000)
            .map(|i| point(i as f64, ((i * 7919) % 1000) as f64))
            .collect();
        let mut bucketing = Bucketing::new(0.0, 999.0, 30);
        points.iter().for_each(|p| bucketing.push_point(p));
        let buckets = bucketing.finish();
        assert!(
            buckets.len() <= 30 && buckets.len() >= 29,
            "{}",
            buckets.len()
        );
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
        for pair in buckets.windows(2) {
            assert!(pair[0].to < pair[1].from);
        }
        for b in &buckets {
            let inside: Vec<f64> = points
                .iter()
                .filter(|p| p.step >= b.from && p.step <= b.to)
                .map(|p| p.value.as_f64().unwrap())
                .collect();
            assert_eq!(inside.len() as u64, b.count);
            assert_eq!(b.min, inside.iter().copied().reduce(f64::min));
            assert_eq!(b.max, inside.iter().copied().reduce(f64::max));
        }
    }

    #[test]
    fn a_wide_piece_widens_its_bucket() {
        let mut bucketing = Bucketing::new(0.0, 100.0, 10);
        let mut wide = Bucket::of_point(&point(5.0, 1.0));
        wide.absorb(Bucket::of_point(&point(55.0, 2.0)));
        bucketing.push(wide);
        bucketing.push_point(&point(57.0, 9.0)); // the bucket of 50..60
        bucketing.push_point(&point(58.0, 3.0));
        bucketing.push_point(&point(70.0, 4.0));
        let buckets = bucketing.finish();
        let spans: Vec<(f64, f64, u64)> = buckets.iter().map(|b| (b.from, b.to, b.count)).collect();
        assert_eq!(spans, [(5.0, 55.0, 2), (57.0, 58.0, 2), (70.0, 70.0, 1)]);
        assert_eq!(buckets[1].max, Some(9.0));
    }

    #[test]
    fn nan_is_left_out_of_min_and_max_and_infinities_are_kept() {
        let mut b = Bucket::of_point(&point(0.0, f64::NAN));
        assert_eq!((b.min, b.max), (None, None));
        b.absorb(Bucket::of_point(&point(1.0, f64::INFINITY)));
        b.absorb(Bucket::of_point(&point(2.0, -1.0)));
        assert_eq!((b.min, b.max), (Some(-1.0), Some(f64::INFINITY)));
        assert!(b.first.value.as_f64().unwrap().is_nan());
    }

    #[test]
    fn one_step_ranges_make_one_bucket() {
        let mut bucketing = Bucketing::new(3.0, 3.0, 1000);
        bucketing.push_point(&point(3.0, 1.0));
        assert_eq!(bucketing.finish().len(), 1);
    }
}
