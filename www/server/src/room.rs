//! Rooms: who is in which room, the latest messages, and fan-out to each
//! member's bounded outbox.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};

use async_tungstenite::tungstenite::Message;
use lwt::BoundedPush;
use lwt_www_shared::protocol::{Chat, ServerMsg};

/// How many messages a room keeps for newcomers. A room goes, history and
/// all, when its last member leaves: room names come from clients, so rooms
/// kept empty would pile up without bound.
const HISTORY: usize = 50;

/// The most bytes of history a welcome carries (its lines as encoded),
/// newest first: with the member list it stays under the protocol's frame
/// limit, whatever the lines hold.
pub(crate) const HISTORY_BYTES: usize = 32 * 1024;

/// The newest lines of `history` that fit in [`HISTORY_BYTES`], oldest
/// first.
fn recent(history: &VecDeque<Chat>) -> Vec<Chat> {
    let mut budget = HISTORY_BYTES;
    let mut lines: Vec<Chat> = history
        .iter()
        .rev()
        .map_while(|c| {
            let size = c.from.len() + c.text.len() + 48;
            budget = budget.checked_sub(size)?;
            Some(c.clone())
        })
        .collect();
    lines.reverse();
    lines
}

/// How many frames may wait in a member's outbox; past that the member is
/// too slow and is dropped.
pub(crate) const OUTBOX: usize = 256;

struct Member {
    id: u64,
    name: String,
    outbox: BoundedPush<Message>,
}

/// How many name hints a room keeps before it forgets them all (they only
/// speed up [`Room::unique`]; they are not needed for its answer).
const HINTS: usize = 4096;

#[derive(Default)]
struct Room {
    members: Vec<Member>,
    /// The members' names, for a unique name in O(1).
    names: HashSet<String>,
    /// For a requested name, the suffix to try first: a thousand members
    /// joining as `ada` cost a thousand tries, not half a million.
    hints: HashMap<String, u64>,
    history: VecDeque<Chat>,
    seq: u64,
}

impl Room {
    fn users(&self) -> Vec<String> {
        self.members.iter().map(|m| m.name.clone()).collect()
    }

    /// `name`, or `name-k` for the first free `k` from its hint, recorded
    /// as taken.
    fn unique(&mut self, name: &str) -> String {
        let mut unique = name.to_owned();
        if self.names.contains(&unique) {
            if self.hints.len() >= HINTS {
                self.hints.clear();
            }
            let k = self.hints.entry(name.to_owned()).or_insert(2);
            loop {
                unique = format!("{name}-{k}");
                *k += 1;
                if !self.names.contains(&unique) {
                    break;
                }
            }
        }
        self.names.insert(unique.clone());
        unique
    }
}

/// All rooms, by name.
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: RefCell<HashMap<String, Room>>,
    next_id: std::cell::Cell<u64>,
}

/// A member's ticket: its id and unique name in a room.
pub(crate) struct Ticket {
    pub(crate) id: u64,
    pub(crate) room: String,
    pub(crate) name: String,
}

impl Rooms {
    /// Adds a member to `room` under a unique variant of `name`; sends it the
    /// welcome and tells the others.
    pub(crate) fn join(&self, room: &str, name: &str, outbox: BoundedPush<Message>) -> Ticket {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let (welcome, presence, others, name) = {
            let mut rooms = self.rooms.borrow_mut();
            let r = rooms.entry(room.to_owned()).or_default();
            let unique = r.unique(name);
            let others: Vec<_> = r.members.iter().map(|m| (m.id, m.outbox.clone())).collect();
            r.members.push(Member {
                id,
                name: unique.clone(),
                outbox: outbox.clone(),
            });
            let welcome = ServerMsg::Welcome {
                you: unique.clone(),
                room: room.to_owned(),
                users: r.users(),
                history: recent(&r.history),
            };
            let presence = ServerMsg::Presence {
                joined: Some(unique.clone()),
                left: None,
            };
            (welcome, presence, others, unique)
        };
        let _ = outbox.try_push(Message::text(welcome.encode()));
        self.fan_out(room, others, &presence);
        Ticket {
            id,
            room: room.to_owned(),
            name,
        }
    }

    /// Removes a member and tells the others.
    pub(crate) fn leave(&self, ticket: &Ticket) {
        self.leave_id(&ticket.room, ticket.id);
    }

    /// Removes the member `id` of `room`, if it is still there, and tells
    /// the others.
    fn leave_id(&self, room: &str, id: u64) {
        let (presence, others) = {
            let mut rooms = self.rooms.borrow_mut();
            let Some(r) = rooms.get_mut(room) else {
                return;
            };
            let Some(i) = r.members.iter().position(|m| m.id == id) else {
                return;
            };
            let gone = r.members.remove(i);
            r.names.remove(&gone.name);
            let others: Vec<_> = r.members.iter().map(|m| (m.id, m.outbox.clone())).collect();
            let presence = ServerMsg::Presence {
                joined: None,
                left: Some(gone.name),
            };
            if r.members.is_empty() {
                rooms.remove(room);
            }
            (presence, others)
        };
        self.fan_out(room, others, &presence);
    }

    /// Relays a chat line from `ticket` to everyone in its room (the sender
    /// too: its copy confirms the line and gives its order).
    pub(crate) fn say(&self, ticket: &Ticket, text: &str) {
        let (chat, members) = {
            let mut rooms = self.rooms.borrow_mut();
            // A member dropped for not keeping up may still have a line in
            // flight: it has left, so the line goes nowhere.
            let Some(r) = rooms
                .get_mut(&ticket.room)
                .filter(|r| r.members.iter().any(|m| m.id == ticket.id))
            else {
                return;
            };
            r.seq += 1;
            let chat = Chat {
                from: ticket.name.clone(),
                text: text.to_owned(),
                seq: r.seq,
            };
            r.history.push_back(chat.clone());
            if r.history.len() > HISTORY {
                r.history.pop_front();
            }
            let members: Vec<_> = r.members.iter().map(|m| (m.id, m.outbox.clone())).collect();
            (chat, members)
        };
        self.fan_out(&ticket.room, members, &ServerMsg::Chat(chat));
    }

    /// The users of `room`.
    pub(crate) fn users(&self, room: &str) -> Vec<String> {
        self.rooms
            .borrow()
            .get(room)
            .map(Room::users)
            .unwrap_or_default()
    }

    /// Sends `msg` to `members`; a member whose outbox is full leaves the
    /// room as any other does (the rest are told), and its outbox is closed,
    /// which ends its connection.
    ///
    /// The order matters. Closing an outbox resolves its session's
    /// `dropped` promise; lwt's streams do that with `resolve_later`, which
    /// defers the session's resumption to after the current callback when
    /// there is one, but resumes it at once, inside this call, when there is
    /// none. A session resumed while still in the room could relay a line
    /// it had buffered before `msg` reached the members after it. So the
    /// frame goes to every member first, a slow member leaves the room next,
    /// and only then is its outbox closed: a session resumed from here finds
    /// itself out of the room and relays nothing (and it looks at `dropped`
    /// before its next frame).
    fn fan_out(&self, room: &str, members: Vec<(u64, BoundedPush<Message>)>, msg: &ServerMsg) {
        let frame = Message::text(msg.encode());
        let slow: Vec<_> = members
            .into_iter()
            .filter(|(_, outbox)| outbox.try_push(frame.clone()).is_err())
            .collect();
        for (id, outbox) in slow {
            self.leave_id(room, id);
            outbox.close();
        }
    }
}
