//! The product catalog the decision pipeline searches.

use std::thread::sleep;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::errors::CatalogError;
use super::plan::{DemoRng, latency};

/// A product of the catalog.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Product {
    pub id: &'static str,
    pub title: &'static str,
    pub category: &'static str,
    pub price: f64,
    pub rating: f64,
    pub reviews: u32,
}

const fn product(
    id: &'static str,
    title: &'static str,
    category: &'static str,
    price: f64,
    rating: f64,
    reviews: u32,
) -> Product {
    Product {
        id,
        title,
        category,
        price,
        rating,
        reviews,
    }
}

/// The catalog; one title carries markup on purpose, for escaping tests of the dashboard.
pub const CATALOG: &[Product] = &[
    product(
        "B0A1STEEL",
        "Stainless Steel Water Bottle 750ml",
        "Kitchen",
        24.99,
        4.6,
        1830,
    ),
    product(
        "B0A2GLASS",
        "Glass Water Bottle with Sleeve 500ml",
        "Kitchen",
        19.50,
        4.3,
        412,
    ),
    product(
        "B0A3KIDS",
        "Kids Leak-Proof Bottle 350ml",
        "Kitchen",
        12.99,
        4.1,
        96,
    ),
    product(
        "B0A4SPORT",
        "Insulated Sports Bottle 1L",
        "Sports",
        29.00,
        4.7,
        2210,
    ),
    product(
        "B0A5FOLD",
        "Collapsible Silicone Bottle 600ml",
        "Outdoors",
        16.75,
        3.8,
        58,
    ),
    product(
        "B0A6FILTR",
        "Filter Bottle for Hiking 1L",
        "Outdoors",
        34.90,
        4.4,
        730,
    ),
    product(
        "B0A7SMART",
        "Smart Bottle with Hydration Reminder",
        "Electronics",
        59.00,
        3.6,
        201,
    ),
    product(
        "B0A8TEA",
        "Tea Infuser Bottle 450ml",
        "Kitchen",
        21.00,
        4.2,
        33,
    ),
    product(
        "B0A9XSS",
        "Sneaky Bottle <script>alert(\"x\")</script>",
        "Kitchen",
        22.00,
        4.5,
        77,
    ),
    product(
        "B0B1CYCLE",
        "Cycling Squeeze Bottle 750ml",
        "Sports",
        9.99,
        4.0,
        505,
    ),
    product(
        "B0B2COPPR",
        "Copper Bottle Ayurvedic 900ml",
        "Kitchen",
        27.40,
        4.4,
        640,
    ),
    product(
        "B0B3PET",
        "Travel Water Bottle for Dogs",
        "Pets",
        15.99,
        4.3,
        1210,
    ),
    product(
        "B0B4GALLN",
        "Half-Gallon Motivational Bottle",
        "Sports",
        18.95,
        4.5,
        3400,
    ),
    product(
        "B0B5BAMBO",
        "Bamboo Lid Glass Bottle 1L",
        "Kitchen",
        23.30,
        3.9,
        120,
    ),
    product(
        "B0B6TITAN",
        "Titanium Ultralight Bottle 900ml",
        "Outdoors",
        64.00,
        4.8,
        88,
    ),
    product(
        "B0B7PLAIN",
        "Basic Plastic Bottle 500ml (Pack of 6)",
        "Kitchen",
        11.49,
        3.5,
        2900,
    ),
];

/// The catalog's search API.
pub struct ProductCatalog {
    /// Injected failure: the shard holding the category is down.
    pub shard_down: bool,
}

impl ProductCatalog {
    /// Products similar to `keywords`, other than `exclude`.
    #[pathwise::monitor(name = "ProductCatalog.search", group = "catalog", skip(rng))]
    pub fn search(
        &self,
        keywords: Vec<String>,
        exclude: &str,
        rng: &mut DemoRng,
    ) -> Result<Vec<Product>, CatalogError> {
        sleep(latency(rng, 5.0, 20.0));
        if self.shard_down {
            let cause = std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connection refused (10.0.3.7:9200)",
            );
            return Err(CatalogError { shard: 3, cause });
        }
        let mut found: Vec<Product> = CATALOG
            .iter()
            .filter(|p| p.id != exclude)
            .copied()
            .collect();
        found.shuffle(rng);
        // Most keyword matches first; the shuffle orders ties.
        let matches = |p: &Product| {
            let title = p.title.to_lowercase();
            keywords
                .iter()
                .filter(|k| title.contains(k.as_str()))
                .count()
        };
        found.sort_by_key(|p| std::cmp::Reverse(matches(p)));
        found.truncate(rng.random_range(6..=12).min(found.len()));
        Ok(found)
    }
}
