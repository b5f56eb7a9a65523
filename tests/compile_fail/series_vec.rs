use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Metrics {
    #[log(series)]
    losses: Vec<f64>,
    #[log(series)]
    acc: f64,
}

fn main() {}
