use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Metrics {
    #[log(series)]
    converged: bool,
}

fn main() {}
