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
