use hippocamp::{log, Mode, Run};

fn main() -> Result<(), hippocamp::Error> {
    let run = Run::builder().mode(Mode::Debug).start()?;
    log!(run, step = 3)?;
    Ok(())
}
