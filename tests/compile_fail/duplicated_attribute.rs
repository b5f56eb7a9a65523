use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Metrics {
    #[log(series)]
    #[log(series)]
    loss: f64,
}

fn main() {}
