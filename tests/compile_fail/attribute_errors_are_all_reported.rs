use hippocamp::LogNamespace;

#[derive(LogNamespace)]
#[log(series)]
struct Params {
    #[log(rename = 5)]
    a: f64,
    #[log(skip = true)]
    b: f64,
    #[log(flatten, series)]
    c: f64,
    #[log]
    d: f64,
    #[log(rename = "x", rename = "y")]
    e: f64,
    #[log(rename = " padded")]
    f: f64,
}

fn main() {}
