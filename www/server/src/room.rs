//! Rooms: who is in which room, the latest messages, and fan-out to each
//! member's bounded outbox.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};

use async_tungstenite::tungstenite::Message;
use lwt::BoundedPush;
use lwt_www_shared::protocol::{Chat, ServerMsg, MAX_FRAME_BYTES};

/// How many messages a room keeps for newcomers. A room goes, history and
/// all, when its last member leaves: room names come from clients, so rooms
/// kept empty would pile up without bound.
const HISTORY: usize = 50;

/// The most bytes of history a welcome carries (its lines as encoded),
/// newest first, in a room with few members; a bigger member list leaves
/// it less (see [`history_budget`]).
pub(crate) const HISTORY_BYTES: usize = 32 * 1024;

/// The most bytes a room's member list may take in a welcome (each name
/// as a JSON string and its comma). A join past it is refused: the room is
/// full. That is about 260 members whose names are 32 four-byte characters,
/// and over 2,000 whose names are a few ASCII letters and a number.
pub(crate) const USERS_BYTES: usize = 40 * 1024;

/// What a welcome holds besides its member list and history, at most: its
/// field names, `you` (a name with its suffix) and the room's name.
const ENVELOPE: usize = 1024;

/// The bytes `s` takes as a JSON string, quotes included, at most: the
/// protocol's JSON writer escapes a character in six bytes at most.
fn json_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' => 2,
            c if c < ' ' => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// The bytes `name` adds to a member list: its JSON string and a comma.
fn user_len(name: &str) -> usize {
    json_len(name) + 1
}

/// The bytes of history a welcome may carry with a member list of
/// `users_bytes`: [`HISTORY_BYTES`], less what the list takes past
/// `MAX_FRAME_BYTES - ENVELOPE - HISTORY_BYTES`. The welcome, list and
/// history together, stays under the protocol's frame limit.
fn history_budget(users_bytes: usize) -> usize {
    HISTORY_BYTES.min(MAX_FRAME_BYTES - ENVELOPE - users_bytes.min(USERS_BYTES))
}

/// The newest lines of `history` that fit in `budget` bytes as encoded,
/// oldest first.
fn recent(history: &VecDeque<Chat>, mut budget: usize) -> Vec<Chat> {
    let mut lines: Vec<Chat> = history
        .iter()
        .rev()
        .map_while(|c| {
            // `{"from":..,"text":..,"seq":N},`
            let size = json_len(&c.from) + json_len(&c.text) + 48;
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
    /// What the member list takes in a welcome, by [`user_len`].
    users_bytes: usize,
}

impl Room {
    fn users(&self) -> Vec<String> {
        self.members.iter().map(|m| m.name.clone()).collect()
    }

    /// `name`, or `name-k` for the first free `k` from its hint (not yet
    /// taken: [`Room::take`] does that).
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
        unique
    }

    /// Records `name` as a member's, unless the member list would then
    /// take more than [`USERS_BYTES`].
    fn take(&mut self, name: &str) -> Result<(), RoomFull> {
        let bytes = self.users_bytes + user_len(name);
        if bytes > USERS_BYTES {
            return Err(RoomFull);
        }
        self.users_bytes = bytes;
        self.names.insert(name.to_owned());
        Ok(())
    }
}

/// All rooms, by name.
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: RefCell<HashMap<String, Room>>,
    next_id: std::cell::Cell<u64>,
}

/// A join refused: the room's member list would take more than
/// [`USERS_BYTES`] in a welcome.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RoomFull;

/// A member's ticket: its id and unique name in a room.
pub(crate) struct Ticket {
    pub(crate) id: u64,
    pub(crate) room: String,
    pub(crate) name: String,
}

impl Rooms {
    /// Adds a member to `room` under a unique variant of `name`; sends it the
    /// welcome and tells the others. A full room refuses it (and nothing is
    /// sent).
    pub(crate) fn join(
        &self,
        room: &str,
        name: &str,
        outbox: BoundedPush<Message>,
    ) -> Result<Ticket, RoomFull> {
        let (welcome, presence, others, name, id) = {
            let mut rooms = self.rooms.borrow_mut();
            let r = rooms.entry(room.to_owned()).or_default();
            let unique = r.unique(name);
            if let Err(full) = r.take(&unique) {
                if r.members.is_empty() {
                    rooms.remove(room);
                }
                return Err(full);
            }
            let id = self.next_id.get() + 1;
            self.next_id.set(id);
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
                history: recent(&r.history, history_budget(r.users_bytes)),
            };
            let presence = ServerMsg::Presence {
                joined: Some(unique.clone()),
                left: None,
            };
            (welcome, presence, others, unique, id)
        };
        let _ = outbox.try_push(Message::text(welcome.encode()));
        self.fan_out(room, others, &presence);
        Ok(Ticket {
            id,
            room: room.to_owned(),
            name,
        })
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
            r.users_bytes -= user_len(&gone.name);
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

#[cfg(test)]
mod tests {
    use super::*;
    use lwt::Stream;
    use lwt_www_shared::protocol::{MAX_NAME_CHARS, MAX_TEXT_CHARS};

    /// Joins `room` as `name` with a fresh outbox; the member's welcome, as
    /// sent, with the outbox.
    fn join(rooms: &Rooms, room: &str, name: &str) -> Option<(Ticket, String, Stream<Message>)> {
        let (frames, push) = Stream::bounded(OUTBOX);
        let ticket = rooms.join(room, name, push).ok()?;
        let Some(Message::Text(welcome)) = frames.try_next() else {
            panic!("no welcome");
        };
        Some((ticket, welcome.to_string(), frames))
    }

    /// Fills `room` with members named `name` (numbered by the room) until
    /// it refuses one; every welcome's size, and the last welcome.
    fn fill(
        rooms: &Rooms,
        room: &str,
        name: &str,
        others: &mut Vec<Stream<Message>>,
    ) -> (Vec<usize>, String) {
        let mut sizes = Vec::new();
        let mut last = String::new();
        while let Some((_, welcome, frames)) = join(rooms, room, name) {
            // The others read their presences, as live members do.
            for f in others.iter() {
                f.get_available();
            }
            others.push(frames);
            sizes.push(welcome.len());
            last = welcome;
        }
        (sizes, last)
    }

    #[test]
    fn a_welcome_with_maximal_names_and_history_is_under_the_frame_limit() {
        // Four bytes a character, the most UTF-8 takes (and more than any
        // escape the checks let through: `"` is two).
        let widest = "\u{1D11E}".repeat(MAX_NAME_CHARS);
        let room = widest.as_str();
        let rooms = Rooms::default();
        let (speaker, _, first) = join(&rooms, room, &widest).unwrap();
        let line = "\u{1D11E}".repeat(MAX_TEXT_CHARS);
        for _ in 0..HISTORY {
            rooms.say(&speaker, &line);
        }
        let mut others = vec![first];
        let (sizes, last) = fill(&rooms, room, &widest, &mut others);
        let members = sizes.len() + 1;
        let biggest = *sizes.iter().max().unwrap();
        eprintln!("{members} members of 32 four-byte characters; biggest welcome {biggest} bytes");
        assert!(biggest < MAX_FRAME_BYTES, "{biggest} bytes");
        // The room filled (a few hundred such names) and the last welcome
        // still carries the full list and some history.
        assert!((200..400).contains(&members), "{members}");
        let Ok(ServerMsg::Welcome { users, history, .. }) = ServerMsg::decode(&last) else {
            panic!("not a welcome: {last:.80}");
        };
        assert_eq!(users.len(), members);
        assert!(!history.is_empty());
        // A member that leaves makes room for one more.
        rooms.leave(&speaker);
        assert!(join(&rooms, room, &widest).is_some());
        assert!(join(&rooms, room, &widest).is_none());
    }

    #[test]
    fn two_thousand_short_names_fit_in_a_room() {
        let rooms = Rooms::default();
        let mut others = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..2000 {
            let (_, welcome, frames) = join(&rooms, "lobby", "m").expect("room full");
            for f in &others {
                let _: Vec<Message> = Stream::get_available(f);
            }
            others.push(frames);
            sizes.push(welcome.len());
        }
        let biggest = *sizes.iter().max().unwrap();
        assert!(biggest < MAX_FRAME_BYTES, "{biggest} bytes");
        assert_eq!(rooms.users("lobby").len(), 2000);
    }
}
