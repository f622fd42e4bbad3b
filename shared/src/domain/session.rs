//! Sign-in sessions: how long they live, what presenting a refresh token means, and who a
//! client is for sign-in limits.

use super::{SessionId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A session ends after this long without a refresh…
pub const SESSION_IDLE_SECONDS: i64 = 30 * 24 * 3600;
/// …and this long after it began, however active.
pub const SESSION_MAX_SECONDS: i64 = 90 * 24 * 3600;
/// How long after a rotation the rotated token still answers with its successor (two tabs
/// refreshing at once, or a retry after a lost answer), instead of counting as theft.
pub const REFRESH_GRACE_SECONDS: i64 = 30;

/// A session as stored: who, since when, how recently used, and which refresh token is current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<UserAgent>,
    /// Counts the refresh tokens issued for the session; the current one has this number.
    pub generation: u32,
}

impl Session {
    pub fn start(user_id: UserId, user_agent: Option<UserAgent>, now: Timestamp) -> Self {
        Self { id: SessionId::new(), user_id, created_at: now, last_used_at: now, user_agent, generation: 0 }
    }

    /// When it ends unless refreshed first: 30 days after its last use, 90 after it began.
    pub fn expires_at(&self) -> Timestamp {
        let idle = self.last_used_at.plus_seconds(SESSION_IDLE_SECONDS);
        let max = self.created_at.plus_seconds(SESSION_MAX_SECONDS);
        if idle < max { idle } else { max }
    }

    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at()
    }

    /// Seconds left (a started second counts), as `refreshExpiresIn` tells the client.
    pub fn seconds_left(&self, now: Timestamp) -> i64 {
        let millis = (self.expires_at().unix_millis() - now.unix_millis()).max(0);
        (millis + 999) / 1000
    }

    /// The session after a refresh at `now`: one generation on, used now.
    pub fn refreshed(&self, now: Timestamp) -> Self {
        Self { last_used_at: now, generation: self.generation + 1, ..self.clone() }
    }
}

/// The account's last password change (a reset, or `POST /me/password`), which ends every
/// session begun before it but the one it was changed from: written with the password, in its
/// transaction, so no session outlives it however many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChange {
    pub at: Timestamp,
    pub kept: Option<SessionId>,
}

impl PasswordChange {
    pub fn ends(&self, session: &Session) -> bool {
        session.created_at <= self.at && Some(session.id) != self.kept
    }
}

/// One refresh token as stored (by its hash): whose session it belongs to, its generation, and
/// when it was rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub generation: u32,
    pub rotated_at: Option<Timestamp>,
}

/// What presenting a refresh token leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The current token of a live session: issue the next one.
    Rotate,
    /// The token rotated just now, and its successor is still the current one: answer that
    /// successor again (a concurrent or retried refresh), so one session stays one session.
    Replay,
    /// The token was read before a rotation and the session after it (the token as read is
    /// current, the session is already on): read both again.
    Stale,
    /// The session is past its end.
    Expired,
    /// An older token came back: someone holds a copy. The whole session is revoked.
    Theft,
}

/// Decides what a refresh with `token` does to `session` at `now`.
pub fn refresh_decision(token: &RefreshRecord, session: &Session, now: Timestamp) -> Refresh {
    if !session.is_live(now) {
        return Refresh::Expired;
    }
    if token.rotated_at.is_none() {
        // A rotation marks the token and moves the session in one transaction.
        return if token.generation == session.generation { Refresh::Rotate } else { Refresh::Stale };
    }
    let just_rotated =
        token.rotated_at.is_some_and(|at| now.unix_seconds() - at.unix_seconds() <= REFRESH_GRACE_SECONDS && now >= at);
    if just_rotated && token.generation + 1 == session.generation {
        return Refresh::Replay;
    }
    Refresh::Theft
}

/// The `User-Agent` a session began with, as shown in the session list: at most 256
/// characters, control characters dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserAgent(String);

impl UserAgent {
    pub const MAX_CHARS: usize = 256;

    /// `None` when nothing printable is left.
    pub fn from_header(raw: &str) -> Option<Self> {
        let clean: String = raw.chars().filter(|c| !c.is_control()).take(Self::MAX_CHARS).collect();
        let clean = clean.trim();
        (!clean.is_empty()).then(|| Self(clean.to_owned()))
    }

    fn parse(raw: &str) -> Result<Self, super::Invalid> {
        Self::from_header(raw).ok_or_else(|| super::Invalid::new("is empty"))
    }
}

string_newtype!(UserAgent);

/// Who is signing in, for sign-in limits: the source address API Gateway saw. An IPv6 client
/// is its /64 (one subscriber's network: counting single addresses would give each one 2^64
/// fresh starts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn from_source_ip(raw: Option<&str>) -> Self {
        match raw.and_then(|ip| ip.trim().parse::<IpAddr>().ok()) {
            Some(IpAddr::V4(v4)) => Self(v4.to_string()),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.to_string()),
                None => {
                    let s = v6.segments();
                    Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
            // Without a source address (not behind API Gateway) every caller is one client.
            None => Self("unknown".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + seconds * 1000)
    }

    fn session() -> Session {
        Session::start(UserId::new(), None, at(0))
    }

    fn token(session: &Session, generation: u32, rotated_at: Option<Timestamp>) -> RefreshRecord {
        RefreshRecord { session_id: session.id, user_id: session.user_id, generation, rotated_at }
    }

    #[test]
    fn a_session_slides_30_days_from_its_last_use_but_never_past_90_days() {
        let mut s = session();
        assert_eq!(s.expires_at(), at(SESSION_IDLE_SECONDS));
        s.last_used_at = at(70 * 24 * 3600);
        assert_eq!(s.expires_at(), at(SESSION_MAX_SECONDS), "capped at 90 days");
        assert!(s.is_live(at(SESSION_MAX_SECONDS - 1)));
        assert!(!s.is_live(at(SESSION_MAX_SECONDS)));
        assert_eq!(s.seconds_left(at(SESSION_MAX_SECONDS + 5)), 0);
        let started = Session::start(UserId::new(), None, Timestamp::from_unix_millis(1_800_000_000_999));
        let a_moment_later = Timestamp::from_unix_millis(1_800_000_001_001);
        assert_eq!(started.seconds_left(a_moment_later), SESSION_IDLE_SECONDS, "not a second less");
    }

    #[test]
    fn the_current_token_rotates_and_an_old_one_is_theft() {
        let s = session();
        assert_eq!(refresh_decision(&token(&s, 0, None), &s, at(10)), Refresh::Rotate);
        let next = s.refreshed(at(10));
        assert_eq!(next.generation, 1);
        assert_eq!(refresh_decision(&token(&next, 1, None), &next, at(20)), Refresh::Rotate);
        // The first token, rotated at 10, presented long after.
        assert_eq!(refresh_decision(&token(&next, 0, Some(at(10))), &next, at(10 + 31)), Refresh::Theft);
        // Two generations back is theft even within the window.
        let later = next.refreshed(at(15));
        assert_eq!(refresh_decision(&token(&later, 0, Some(at(10))), &later, at(16)), Refresh::Theft);
    }

    #[test]
    fn a_token_rotated_moments_ago_replays_its_successor() {
        let s = session().refreshed(at(10));
        let rotated = token(&s, 0, Some(at(10)));
        assert_eq!(refresh_decision(&rotated, &s, at(10)), Refresh::Replay);
        assert_eq!(refresh_decision(&rotated, &s, at(10 + REFRESH_GRACE_SECONDS)), Refresh::Replay);
        assert_eq!(refresh_decision(&rotated, &s, at(11 + REFRESH_GRACE_SECONDS)), Refresh::Theft);
    }

    #[test]
    fn a_token_read_before_a_rotation_that_the_session_shows_is_read_again() {
        let s = session().refreshed(at(10));
        assert_eq!(refresh_decision(&token(&s, 0, None), &s, at(10)), Refresh::Stale);
    }

    #[test]
    fn nothing_refreshes_an_ended_session() {
        let s = session();
        assert_eq!(refresh_decision(&token(&s, 0, None), &s, at(SESSION_IDLE_SECONDS)), Refresh::Expired);
    }

    #[test]
    fn a_password_change_ends_the_sessions_before_it_but_the_one_it_came_from() {
        let (before, kept) = (session(), session());
        let change = PasswordChange { at: at(60), kept: Some(kept.id) };
        assert!(change.ends(&before));
        assert!(!change.ends(&kept));
        assert!(!change.ends(&Session::start(UserId::new(), None, at(61))), "a sign-in after it");
    }

    #[test]
    fn user_agents_are_cut_to_256_printable_characters() {
        assert_eq!(UserAgent::from_header("curl/8\u{7}\n").map(String::from), Some("curl/8".into()));
        assert_eq!(UserAgent::from_header(&"x".repeat(300)).map(|u| u.as_str().len()), Some(256));
        assert_eq!(UserAgent::from_header(" \t "), None);
    }

    #[test]
    fn clients_are_ipv4_addresses_or_ipv6_networks() {
        assert_eq!(ClientKey::from_source_ip(Some("203.0.113.42")).as_str(), "203.0.113.42");
        let a = ClientKey::from_source_ip(Some("2001:db8:1:2:aaaa::1"));
        let b = ClientKey::from_source_ip(Some("2001:db8:1:2:bbbb::9"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2001:db8:1:2::/64");
        assert_eq!(ClientKey::from_source_ip(Some("::ffff:198.51.100.7")).as_str(), "198.51.100.7");
        assert_eq!(ClientKey::from_source_ip(Some("not an ip")).as_str(), "unknown");
        assert_eq!(ClientKey::from_source_ip(None).as_str(), "unknown");
    }
}
