use hippocamp::LogNamespace;

#[derive(LogNamespace)]
struct Metrics {
    #[log(seris)]
    loss: f64,
}

fn main() {}
