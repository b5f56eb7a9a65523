use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Inner {
    x: f64,
}

#[derive(LogNamespace)]
struct Params {
    #[log(skip, series)]
    cache: f64,
    #[log(flatten, rename = "inner")]
    inner: Inner,
}

fn main() {}
