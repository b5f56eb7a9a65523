use hippocamp::{LogNamespace, Mode, Run};

#[derive(LogNamespace)]
struct EpochMetrics {
    #[log(series)]
    loss: f64,
    #[log(series)]
    acc: f64,
}

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    run.at("epoch").at(EpochMetrics::paths().loss).upload("x.png")?;
    Ok(())
}
