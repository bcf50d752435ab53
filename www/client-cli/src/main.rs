//! `lwt-www-client`: the chat room from a terminal, running the same client
//! logic as the browser app (`lwt-www-shared`) on the native engine.
//!
//! ```text
//! lwt-www-client [--url ws://127.0.0.1:8080/ws] [--name NAME] [--room ROOM]
//!                [--say TEXT]... [--wait-for TEXT] [--timeout SECS]
//! ```
//!
//! Lines typed on stdin are said in the room; what the room says is printed.
//! `--say` says a line once connected; `--wait-for` exits 0 as soon as a chat
//! line containing TEXT arrives (for scripts and tests); `--timeout` exits 1
//! after SECS seconds.

use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use lwt::Promise;
use lwt_www_client::NativeConnector;
use lwt_www_shared::protocol::ServerMsg;
use lwt_www_shared::{Client, Config, Event, Status};

struct Args {
    url: String,
    name: String,
    room: String,
    say: Vec<String>,
    wait_for: Option<String>,
    timeout: Option<u64>,
}

fn usage() -> ! {
    eprintln!(
        "usage: lwt-www-client [--url ws://127.0.0.1:8080/ws] [--name NAME] [--room ROOM] \
         [--say TEXT]... [--wait-for TEXT] [--timeout SECS]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        url: "ws://127.0.0.1:8080/ws".into(),
        name: "cli".into(),
        room: "lobby".into(),
        say: Vec::new(),
        wait_for: None,
        timeout: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--url" => a.url = value(),
            "--name" => a.name = value(),
            "--room" => a.room = value(),
            "--say" => a.say.push(value()),
            "--wait-for" => a.wait_for = Some(value()),
            "--timeout" => a.timeout = Some(value().parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    a
}

fn print(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let args = parse_args();
    let connector = match NativeConnector::from_url(&args.url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lwt-www-client: {e}");
            std::process::exit(2);
        }
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ u64::from(std::process::id());
    let result = lwt_native::run(async move {
        let (done, finish) = lwt::wait::<i32>();
        // The first end wins: resolving again is an error, ignored.
        let end = move |code: i32| {
            let _ = finish.resolve(code);
        };
        let mut config = Config::new(args.name.clone(), args.room.clone());
        config.seed = seed;
        let wait_for = args.wait_for.clone();
        let room = args.room.clone();
        let on_event = {
            let end = end.clone();
            move |event: &Event| match event {
                Event::Status(Status::Connected { you }) => {
                    print(&format!("* connected to {room} as {you}"));
                }
                Event::Status(Status::Waiting { delay, reason, .. }) => {
                    print(&format!("* disconnected ({reason}); retrying in {delay:?}"));
                }
                Event::Status(_) | Event::Latency(_) => {}
                Event::Message(ServerMsg::Chat(chat)) => {
                    print(&format!("<{}> {}", chat.from, chat.text));
                    if let Some(w) = &wait_for {
                        if chat.text.contains(w.as_str()) {
                            end(0);
                        }
                    }
                }
                Event::Message(ServerMsg::Presence { joined, left }) => {
                    if let Some(j) = joined {
                        print(&format!("* {j} joined"));
                    }
                    if let Some(l) = left {
                        print(&format!("* {l} left"));
                    }
                }
                Event::Message(ServerMsg::Welcome { users, history, .. }) => {
                    for chat in history {
                        print(&format!("<{}> {}", chat.from, chat.text));
                    }
                    print(&format!("* here: {}", users.join(", ")));
                }
                Event::Message(ServerMsg::Error { code, message, .. }) => {
                    print(&format!("! {code}: {message}"));
                }
                Event::Message(_) => {}
            }
        };
        let client = match Client::start(Rc::new(connector), config, on_event) {
            Ok(client) => client,
            Err(e) => {
                eprintln!("lwt-www-client: {e}");
                return Ok(2);
            }
        };
        // Said once connected: the client keeps them until the welcome.
        for line in &args.say {
            if let Err(e) = client.say(line) {
                print(&format!("! {e}"));
            }
        }
        if let Some(secs) = args.timeout {
            let end = end.clone();
            lwt::sleep(Duration::from_secs(secs)).on_success(move |()| {
                print("! timed out");
                end(1)
            });
        }
        // Lines typed on stdin are said in the room.
        let reader = client.clone();
        let interactive = args.wait_for.is_none();
        let end_on_eof = end.clone();
        let stdin: Promise<()> = lwt::spawn(async move {
            let input = lwt_native::io::stdin();
            while let Some(line) = input.read_line().await? {
                if !line.trim().is_empty() {
                    if let Err(e) = reader.say(&line) {
                        print(&format!("! {e}"));
                    }
                }
            }
            if interactive {
                end_on_eof(0);
            }
            Ok(())
        });
        let code = done.await;
        stdin.abort();
        client.stop();
        code
    });
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("lwt-www-client: {e}");
            std::process::exit(1);
        }
    }
}
