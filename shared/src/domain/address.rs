use super::{Invalid, Text};
use serde::{Deserialize, Serialize};

/// The officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO \
FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG \
KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY \
MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI \
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU \
WF WS YE YT ZA ZM ZW";

/// A country as an ISO 3166-1 alpha-2 code, upper-case (`"US"`, `"DE"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);
string_newtype!(CountryCode);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code) {
            Ok(Self(code))
        } else {
            Err(Invalid::new("must be an ISO 3166-1 alpha-2 country code, e.g. \"US\""))
        }
    }
}

/// A postal address, as used for a customer's default and an order's shipping address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub name: Text,
    pub line1: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<Text>,
    pub city: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
    pub postal_code: Text,
    pub country: CountryCode,
}

/// The limits of each address field, in characters: `(field, required, max)`.
pub const ADDRESS_FIELDS: [(&str, bool, usize); 7] = [
    ("name", true, 100),
    ("line1", true, 200),
    ("line2", false, 200),
    ("city", true, 100),
    ("region", false, 100),
    ("postalCode", true, 20),
    ("country", true, 2),
];

impl Address {
    /// A field's text by its JSON name (`None` for an absent optional one or an unknown name).
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "name" => Some(self.name.as_str()),
            "line1" => Some(self.line1.as_str()),
            "line2" => self.line2.as_ref().map(Text::as_str),
            "city" => Some(self.city.as_str()),
            "region" => self.region.as_ref().map(Text::as_str),
            "postalCode" => Some(self.postal_code.as_str()),
            "country" => Some(self.country.as_str()),
            _ => None,
        }
    }

    /// Builds an address from its fields, reporting every invalid one (by its JSON name).
    /// `get(field)` gives the raw text of a field, `None` when absent.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, Vec<(&'static str, Invalid)>> {
        let mut errors = Vec::new();
        let mut text = |field: &'static str, required: bool, max: usize| -> Option<Text> {
            match get(field) {
                None if required => {
                    errors.push((field, Invalid::new("is required")));
                    None
                }
                None => None,
                Some(raw) if !required && raw.trim().is_empty() => None,
                Some(raw) => Text::parse(raw, 1, max).map_err(|e| errors.push((field, e))).ok(),
            }
        };
        let name = text("name", true, 100);
        let line1 = text("line1", true, 200);
        let line2 = text("line2", false, 200);
        let city = text("city", true, 100);
        let region = text("region", false, 100);
        let postal_code = text("postalCode", true, 20);
        let country = match get("country") {
            None => {
                errors.push(("country", Invalid::new("is required")));
                None
            }
            Some(raw) => CountryCode::parse(raw).map_err(|e| errors.push(("country", e))).ok(),
        };
        match (name, line1, city, postal_code, country) {
            (Some(name), Some(line1), Some(city), Some(postal_code), Some(country)) if errors.is_empty() => {
                Ok(Self { name, line1, line2, city, region, postal_code, country })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(fields: &[(&str, &str)]) -> Result<Address, Vec<(&'static str, Invalid)>> {
        let map: HashMap<&str, &str> = fields.iter().copied().collect();
        Address::parse(|f| map.get(f).copied())
    }

    #[test]
    fn country_codes_are_normalised_and_must_be_assigned() {
        assert_eq!(CountryCode::parse(" de ").unwrap().as_str(), "DE");
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("USA").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn a_complete_address_parses_and_blank_optionals_are_dropped() {
        let a = parse(&[
            ("name", "Ada Lovelace"),
            ("line1", "12 St James's Square"),
            ("line2", " "),
            ("city", "London"),
            ("postalCode", "SW1Y 4JH"),
            ("country", "gb"),
        ])
        .unwrap();
        assert_eq!(a.country.as_str(), "GB");
        assert_eq!(a.line2, None);
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let errors = parse(&[("name", ""), ("country", "ZZ")]).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["name", "line1", "city", "postalCode", "country"]);
    }
}

/// One saved address of a customer's address book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressEntry {
    pub id: super::AddressId,
    #[serde(flatten)]
    pub address: Address,
    /// The one the profile shows as `defaultShippingAddress` (at most one is).
    pub default_shipping: bool,
}

/// A customer's saved addresses, in the order they were added; at most one is the default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressBook {
    pub entries: Vec<AddressEntry>,
}

/// The book already holds [`AddressBook::MAX_ENTRIES`] addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressBookFull;

/// A change to one entry; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct AddressEdit {
    pub address: Option<Address>,
    pub default_shipping: Option<bool>,
}

impl AddressBook {
    pub const MAX_ENTRIES: usize = 20;

    /// The book of a profile stored before address books: its default shipping address, if any,
    /// as the one entry (named by the user's id, so that it keeps one id until rewritten).
    pub fn from_legacy(user: super::UserId, default: Option<&Address>) -> Self {
        let entries = default
            .map(|address| AddressEntry {
                id: super::AddressId::of_user(user),
                address: address.clone(),
                default_shipping: true,
            })
            .into_iter()
            .collect();
        Self { entries }
    }

    pub fn default_shipping(&self) -> Option<&Address> {
        self.entries.iter().find(|e| e.default_shipping).map(|e| &e.address)
    }

    pub fn get(&self, id: super::AddressId) -> Option<&AddressEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Adds an address (the default if `default_shipping`, the former default then not).
    pub fn add(
        &mut self,
        id: super::AddressId,
        address: Address,
        default_shipping: bool,
    ) -> Result<(), AddressBookFull> {
        if self.entries.len() >= Self::MAX_ENTRIES {
            return Err(AddressBookFull);
        }
        if default_shipping {
            self.entries.iter_mut().for_each(|e| e.default_shipping = false);
        }
        self.entries.push(AddressEntry { id, address, default_shipping });
        Ok(())
    }

    /// Edits an entry; `false` if there is none with that id.
    pub fn edit(&mut self, id: super::AddressId, edit: AddressEdit) -> bool {
        let Some(index) = self.entries.iter().position(|e| e.id == id) else { return false };
        if edit.default_shipping == Some(true) {
            self.entries.iter_mut().for_each(|e| e.default_shipping = false);
        }
        let entry = &mut self.entries[index];
        if let Some(address) = edit.address {
            entry.address = address;
        }
        if let Some(default) = edit.default_shipping {
            entry.default_shipping = default;
        }
        true
    }

    /// Removes an entry; `false` if there is none with that id.
    pub fn remove(&mut self, id: super::AddressId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id);
        self.entries.len() != before
    }

    /// What `PATCH /me` `{defaultShippingAddress}` does: `Some` makes that address the default
    /// (a saved entry equal to it, else a new entry), `None` leaves no default. No saved address
    /// is changed or removed.
    pub fn set_default(&mut self, new_id: super::AddressId, address: Option<Address>) -> Result<(), AddressBookFull> {
        let Some(address) = address else {
            self.entries.iter_mut().for_each(|e| e.default_shipping = false);
            return Ok(());
        };
        match self.entries.iter().position(|e| e.address == address) {
            Some(index) => {
                self.entries.iter_mut().for_each(|e| e.default_shipping = false);
                self.entries[index].default_shipping = true;
                Ok(())
            }
            None => self.add(new_id, address, true),
        }
    }
}

#[cfg(test)]
mod book_tests {
    use super::*;
    use crate::domain::{AddressId, UserId};

    fn address(name: &str) -> Address {
        let fields = [("name", name), ("line1", "1 Road"), ("city", "Leeds"), ("postalCode", "LS1"), ("country", "GB")];
        Address::parse(|f| fields.iter().find(|(k, _)| *k == f).map(|(_, v)| *v)).unwrap()
    }

    #[test]
    fn at_most_one_entry_is_the_default_and_it_is_the_profiles_default_address() {
        let mut book = AddressBook::default();
        let (home, work) = (AddressId::new(), AddressId::new());
        book.add(home, address("Home"), true).unwrap();
        book.add(work, address("Work"), false).unwrap();
        assert_eq!(book.default_shipping().map(|a| a.name.as_str()), Some("Home"));
        assert!(book.edit(work, AddressEdit { address: None, default_shipping: Some(true) }));
        assert_eq!(book.entries.iter().filter(|e| e.default_shipping).count(), 1);
        assert_eq!(book.default_shipping().map(|a| a.name.as_str()), Some("Work"));
        assert!(book.remove(work));
        assert_eq!(book.default_shipping(), None);
        assert!(!book.remove(work));
        assert!(!book.edit(work, AddressEdit::default()));
    }

    #[test]
    fn a_book_holds_twenty_addresses() {
        let mut book = AddressBook::default();
        for i in 0..AddressBook::MAX_ENTRIES {
            book.add(AddressId::new(), address(&format!("A{i}")), false).unwrap();
        }
        assert_eq!(book.add(AddressId::new(), address("one more"), false), Err(AddressBookFull));
    }

    #[test]
    fn the_old_default_address_is_the_default_entry_and_patch_me_keeps_working_on_it() {
        let user = UserId::new();
        let mut book = AddressBook::from_legacy(user, Some(&address("Old")));
        assert_eq!(book.entries.len(), 1);
        assert_eq!(book.entries[0].id, AddressId::of_user(user));
        book.set_default(AddressId::new(), Some(address("New"))).unwrap();
        assert_eq!((book.entries.len(), book.default_shipping().map(|a| a.name.as_str())), (2, Some("New")));
        book.set_default(AddressId::new(), Some(address("Old"))).unwrap();
        assert_eq!(
            (book.entries.len(), book.default_shipping().map(|a| a.name.as_str())),
            (2, Some("Old")),
            "the saved one"
        );
        book.set_default(AddressId::new(), None).unwrap();
        assert_eq!((book.entries.len(), book.default_shipping()), (2, None), "no default, nothing deleted");
        assert!(AddressBook::from_legacy(user, None).entries.is_empty());
    }
}
