//! Running the binary with its stdout on a pseudo-terminal of a chosen
//! size, as a user's shell would.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, ExitStatus, Stdio};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcsetwinsize, Winsize};

/// What a command did with its stdout on a terminal.
pub struct OnTerminal {
    pub status: ExitStatus,
    /// What it wrote to the terminal, with the terminal's `\r\n` made `\n`.
    pub screen: String,
    pub stderr: String,
}

/// Runs `command` with stdout on a new pseudo-terminal `columns` wide and
/// `rows` high (stdin empty, stderr captured), until it exits.
pub fn run_on_terminal(mut command: Command, columns: u16, rows: u16) -> OnTerminal {
    let master: OwnedFd = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    tcsetwinsize(
        &slave,
        Winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .unwrap();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // The parent's copy of the terminal's end goes with the command, so
    // that reading ends when the child closes its own.
    drop(command);
    let mut master = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut screen = Vec::new();
        let mut buf = [0u8; 8192];
        // Linux says EIO once the other end is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            screen.extend_from_slice(&buf[..n]);
        }
        screen
    });
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let screen = reader.join().unwrap();
    OnTerminal {
        status,
        screen: String::from_utf8_lossy(&screen).replace("\r\n", "\n"),
        stderr,
    }
}
