//! The command line, as clap's derive API reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Look at the runs that hippocamp logged: list, inspect, compare, plot
/// and export them. Works on the local store, no server needed.
#[derive(Debug, Parser)]
#[command(
    name = "hippocamp",
    version,
    after_help = "Examples:
  hippocamp ls --where 'params/lr > 0.001' --columns params/lr,train/loss --sort train/loss
  hippocamp show MNIST-3 params
  hippocamp get MNIST-3 train/loss --last
  hippocamp plot MNIST-3:train/loss MNIST-4:train/loss -o loss.svg
  hippocamp export --all -o exported/"
)]
pub struct Cli {
    /// The store's directory [default: $HIPPOCAMP_HOME, else ./.hippocamp]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The runs table: id, name, state, creation time, tags and chosen fields.
    #[command(after_help = "Examples:
  hippocamp ls
  hippocamp ls --project mnist --tag baseline --state finished
  hippocamp ls --columns params/lr,train/loss --sort train/loss --limit 5
  hippocamp ls --where 'params/lr > 0.001 and params/optimizer/name = \"adam\"' --format json
  hippocamp ls --columns params/lr,eval/loss --precision 3

--where expressions compare field paths with values: = != < <= > >=, joined
with and / or / not and parentheses (nested at most 64 deep). Values are
numbers, \"strings\", true or false. A series compares by its last value; a
StringSet = \"x\" when it holds x (sys/tags = \"baseline\"); a Datetime with an
RFC 3339 string. A run missing the field does not match, even under not.
Paths with spaces go in `backticks`.

--sort takes id, name, state, created, project or a field path; runs missing
the field (or whose value is NaN) go last, with --desc too; --desc alone lists
the newest first. --state takes running, finished, crashed, failed or damaged.

A path of --where, --columns or --sort that no run has is named in a warning
on stderr, with the nearest paths that exist (learning_rate → params/learning_rate).

Floats in the table show 6 significant digits (--precision N, 1 to 17; 17 is
exact); --format csv and json write them exactly.")]
    Ls(LsArgs),

    /// The tree of a run, or of a namespace in it.
    #[command(after_help = "Examples:
  hippocamp show MNIST-3
  hippocamp show MNIST-3 params/optimizer
  hippocamp show MNIST-3 --precision 10

The whole run includes sys/ (id, state, hostname, tags, …). Atoms show their
value (strings quoted), series their count, last value and step (FloatSeries
also min and max, NaN left out), files their name and size. Floats show 6
significant digits (--precision N, 1 to 17; 17 is exact); `get` prints them
exactly.")]
    Show(ShowArgs),

    /// One field: an atom's value, a series' points, a file's bytes.
    #[command(after_help = "Examples:
  hippocamp get MNIST-3 params/lr
  hippocamp get MNIST-3 train/loss            # step,value,timestamp as CSV
  hippocamp get MNIST-3 train/loss --last
  hippocamp get MNIST-3 train/loss --format json
  hippocamp get MNIST-3 model/weights -o weights.bin

An atom prints plain (strings unquoted), a StringSet one item per line, a
namespace `path: value` lines (series left out). A File or FileSeries gives
its (last) file's bytes, to -o FILE or a pipe (not to a terminal); with
--format json, its metadata. -o overwrites a file, through a symlink too,
but creates none through a symlink that leads nowhere. Timestamps are RFC
3339 with nanoseconds. NaN and infinities print as NaN, inf, -inf, and in
JSON, whose numbers cannot hold them, as the strings \"NaN\", \"inf\", \"-inf\".")]
    Get(GetArgs),

    /// The fields where runs differ: params side by side, series by last value.
    #[command(after_help = "Examples:
  hippocamp diff MNIST-3 MNIST-4
  hippocamp diff MNIST-3 MNIST-4 MNIST-5 --precision 3

Fields equal in every run are left out; `-` marks a run without the field.
Of sys/, only name, description and tags are compared. Values are compared
exactly; floats show 6 significant digits (--precision N), or as many more as
it takes to tell apart two that differ.")]
    Diff(DiffArgs),

    /// Series as a line chart: in the terminal, or to an SVG or PNG file.
    #[command(after_help = "Examples:
  hippocamp plot MNIST-3                        # every FloatSeries of the run
  hippocamp plot MNIST-3:train/loss MNIST-4:train/loss
  hippocamp plot MNIST-3:train/loss --x time -o loss.png
  hippocamp plot train/loss --tag baseline      # that path of every run tagged so
  hippocamp plot train/loss --where 'params/lr >= 0.001' --smooth 0.9 --log-y
  hippocamp plot MNIST-5:train/loss --follow    # redraws while the run logs

NaN and ±Inf points are not drawn (the line joins across them), nor points at
or below 0 on a log axis; long series are downsampled per pixel column,
keeping each column's minimum and maximum. In a terminal the chart fills the
terminal's width and height. Each series has its own colour, and from the
11th on (13th in a terminal) its own dash: at most 40 series. --smooth W draws
each series as an exponential moving average of weight W (TensorBoard's
smoothing) over its raw line, faint. If all points have one timestamp, --x
time draws them by step. --follow redraws (the terminal chart in place, or
the file) as points arrive, until every run plotted has ended.")]
    Plot(PlotArgs),

    /// Whole runs, lossless, as JSON, CSV or Parquet files in a directory.
    #[command(after_help = "Examples:
  hippocamp export MNIST-3 -o exported/             # JSON, lossless; import reads it
  hippocamp export --all --format csv -o exported/
  hippocamp export --all --format parquet -o exported/")]
    Export(ExportArgs),

    /// Reads a JSON export back into the store as the same run.
    #[command(after_help = "Examples:
  hippocamp import exported/MNIST-3.json
  hippocamp import exported/")]
    Import(ImportArgs),

    /// Adds (+name) or removes (-name) tags of a run.
    #[command(after_help = "Examples:
  hippocamp tag MNIST-3 +best -draft
  hippocamp --dir runs/ tag MNIST-3 +best

Options go before the run id: everything after it is a tag change.")]
    Tag(TagArgs),

    /// Deletes runs (asks first, unless --yes).
    #[command(after_help = "Examples:
  hippocamp rm MNIST-3 MNIST-4
  hippocamp rm MNIST-3 --yes")]
    Rm(RmArgs),

    /// Removes stored files that no run refers to, and says what it freed.
    #[command(after_help = "Examples:
  hippocamp gc")]
    Gc(GcArgs),

    /// Serves a web page to browse, chart and compare the runs (until Ctrl-C).
    #[command(after_help = "Examples:
  hippocamp ui                      # http://127.0.0.1:5180/
  hippocamp ui --dir runs/ --port 0 # a free port
  hippocamp ui --host 0.0.0.0       # beyond this machine: with an access token

It prints the URL it serves once it accepts connections. The store is opened
read-only: a run being logged is never blocked or slowed, and what it logs
shows within 2 seconds. Bound to any address but 127.0.0.1 (or ::1), every
request needs the access token: --token, else $HIPPOCAMP_UI_TOKEN, else one is
made and printed in the URL.")]
    Ui(UiArgs),

    /// Checks the whole store and lists every damaged part; exit code 1 if any.
    #[command(after_help = "Examples:
  hippocamp check
  hippocamp --dir /mnt/backup/runs check

Reads every series chunk (its CRC-32C checksum, its row, the order of its
steps), every field row and every file content (its SHA-256 and size), plus
SQLite's own integrity check. Prints one line per damaged part and a summary.
Exit code 0: intact; 1: damage found; 2: the store could not be read at all.
It reads one snapshot without blocking runs being logged.")]
    Check(CheckArgs),
}

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TableFormat {
    /// Aligned columns.
    #[default]
    Table,
    /// One JSON array of objects.
    Json,
    /// Comma-separated values with a header.
    Csv,
}

/// How many significant digits a table or tree shows of a float.
#[derive(Debug, Clone, Copy, Args)]
pub struct PrecisionArg {
    /// Significant digits of floats (1 to 17; 17 shows every float exactly)
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::format::DEFAULT_PRECISION as u8,
        value_parser = clap::value_parser!(u8).range(1..=crate::format::MAX_PRECISION as i64)
    )]
    pub precision: u8,
}

impl PrecisionArg {
    /// The number of digits.
    pub fn digits(self) -> usize {
        usize::from(self.precision)
    }
}

/// Options of `hippocamp ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Field columns to show, comma-separated (a series shows its last value)
    #[arg(long, value_delimiter = ',', value_name = "PATH,…")]
    pub columns: Vec<String>,
    /// Only runs of this project
    #[arg(long)]
    pub project: Option<String>,
    /// Only runs with this tag (repeat for several: all must match)
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only runs in this state: running, finished, crashed, failed (marked failed), or damaged
    #[arg(long)]
    pub state: Option<String>,
    /// Only runs for which this expression holds (see below)
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Sort by this field path (or id, name, state, created, project)
    #[arg(long, value_name = "PATH")]
    pub sort: Option<String>,
    /// Sort in descending order
    #[arg(long)]
    pub desc: bool,
    /// Show at most this many runs
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: TableFormat,
    // Floats in the table (CSV and JSON are exact).
    #[command(flatten)]
    pub precision: PrecisionArg,
}

/// Options of `hippocamp show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run's id
    pub run: String,
    /// A namespace or field in it (default: the whole run)
    pub path: Option<String>,
    // Floats in the tree.
    #[command(flatten)]
    pub precision: PrecisionArg,
}

/// How `get` prints a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SeriesFormat {
    /// step,value,timestamp lines with a header.
    #[default]
    Csv,
    /// A JSON array of {step, value, timestamp}.
    Json,
}

/// Options of `hippocamp get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The run's id
    pub run: String,
    /// The field's path
    pub path: String,
    /// Only a series' last point
    #[arg(long)]
    pub last: bool,
    /// Output format: plain values and series as CSV, or JSON
    #[arg(long, value_enum, default_value_t)]
    pub format: SeriesFormat,
    /// Write to this file instead of stdout (a file field's bytes, say)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of `hippocamp diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Two or more run ids
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<String>,
    // Floats in the table.
    #[command(flatten)]
    pub precision: PrecisionArg,
}

/// What the x axis of a plot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum XAxis {
    /// The series' steps.
    #[default]
    Step,
    /// The points' timestamps (seconds since the first point).
    Time,
}

/// Options of `hippocamp plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// RUN (every FloatSeries of the run) or RUN:PATH; with --where, --tag
    /// or --project: PATH, plotted for every run they select
    #[arg(required = true, num_args = 1.., value_name = "RUN[:PATH]|PATH")]
    pub series: Vec<String>,
    /// Plot PATH of every run for which this expression holds (as in `ls --where`)
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Plot PATH of every run with this tag (repeat for several: all must match)
    #[arg(long)]
    pub tag: Vec<String>,
    /// Plot PATH of every run of this project
    #[arg(long)]
    pub project: Option<String>,
    /// The x axis
    #[arg(long, value_enum, default_value_t)]
    pub x: XAxis,
    /// Smooth each series by an exponential moving average of this weight
    /// (0 to 1, e.g. 0.9), the raw line drawn faint
    #[arg(long, value_name = "WEIGHT")]
    pub smooth: Option<f64>,
    /// A logarithmic y axis (points at or below 0 are not drawn)
    #[arg(long)]
    pub log_y: bool,
    /// A logarithmic x axis (points at or below 0 are not drawn)
    #[arg(long)]
    pub log_x: bool,
    /// Redraw as points arrive, until the runs end (or Ctrl-C)
    #[arg(long)]
    pub follow: bool,
    /// With --follow, seconds between looks at the store
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        requires = "follow"
    )]
    pub interval: f64,
    /// Significant digits of the axes' numbers (1 to 17)
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::chart::AXIS_DIGITS as u8,
        value_parser = clap::value_parser!(u8).range(1..=crate::format::MAX_PRECISION as i64)
    )]
    pub precision: u8,
    /// Write the chart to this .svg or .png file (default: draw in the terminal)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One lossless JSON file per run (with its files beside it); `import` reads it.
    Json,
    /// CSV files per run: fields, and one file per series.
    Csv,
    /// Parquet files per run: fields, and the points of every series.
    Parquet,
}

/// Options of `hippocamp export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Run ids to export
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub runs: Vec<String>,
    /// Export every run of the store
    #[arg(long)]
    pub all: bool,
    /// Output format (JSON is the one `import` reads back)
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// The directory to write into (created if missing)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Options of `hippocamp import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A JSON export file, or a directory of them
    pub path: PathBuf,
}

/// Options of `hippocamp tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The run's id
    pub run: String,
    /// +name adds a tag, -name removes one
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "+TAG|-TAG")]
    pub changes: Vec<String>,
}

/// Options of `hippocamp rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Run ids to delete
    #[arg(required = true, num_args = 1..)]
    pub runs: Vec<String>,
    /// Do not ask
    #[arg(short, long)]
    pub yes: bool,
}

/// Options of `hippocamp gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only say what would be freed
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `hippocamp ui`.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// The address to listen on (any but a loopback one needs a token)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// The port (0 picks a free one)
    #[arg(long, default_value_t = hippocamp_server::DEFAULT_PORT)]
    pub port: u16,
    /// The access token requests must show [default: $HIPPOCAMP_UI_TOKEN, else a new one when needed]
    #[arg(long, env = "HIPPOCAMP_UI_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Options of `hippocamp check` (none yet).
#[derive(Debug, Args)]
pub struct CheckArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tag_takes_minus_names() {
        let cli = Cli::parse_from(["hippocamp", "tag", "MNIST-1", "+best", "-draft"]);
        let Command::Tag(tag) = cli.command else {
            panic!()
        };
        assert_eq!(tag.changes, ["+best", "-draft"]);
    }
}
