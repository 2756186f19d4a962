//! Durable state in an embedded database (redb): one record per load balancer (with its listeners, groups,
//! rules and tags), certificate and ClientToken, and the generator counters. A write call saves only the
//! records it changed, in one transaction committed (fsync) before the call is answered, so writes cost the
//! same with ten load balancers or ten thousand. redb is pure Rust: the emulator still builds as a static musl
//! binary without a C toolchain.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::state::{AccountState, Certificate, ClientTokenRecord, LoadBalancer, Store};

const LOAD_BALANCERS: TableDefinition<&str, &[u8]> = TableDefinition::new("load_balancers");
/// Keyed `server/<id>` or `ca/<id>`.
const CERTIFICATES: TableDefinition<&str, &[u8]> = TableDefinition::new("certificates");
/// Keyed `<account>\n<token>`.
const CLIENT_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("client_tokens");
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// redb's page cache; the state itself is in memory already, so a small one does.
const CACHE_BYTES: usize = 16 << 20;

/// A record with the account it belongs to (values are JSON, so the file stays greppable).
#[derive(Serialize, Deserialize)]
struct Owned<T> {
    account: String,
    #[serde(default)]
    key: String,
    item: T,
}

#[derive(Serialize)]
struct OwnedRef<'a, T> {
    account: &'a str,
    key: &'a str,
    item: &'a T,
}

fn json<T: Serialize>(account: &str, key: &str, item: &T) -> std::io::Result<Vec<u8>> {
    Ok(serde_json::to_vec(&OwnedRef { account, key, item })?)
}

fn io(e: impl Into<redb::Error>) -> std::io::Error {
    std::io::Error::other(e.into())
}

pub struct Durable {
    db: Database,
}

impl Durable {
    /// Opens (or creates) the database at `path` and loads it. A JSON state file of earlier versions at that
    /// path is imported and replaced by a database.
    pub fn open(path: &Path) -> anyhow::Result<(Self, Store)> {
        if std::fs::read(path).is_ok_and(|bytes| bytes.first() == Some(&b'{')) {
            return Self::import_json(path);
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| anyhow::anyhow!("state file {}: {e}", path.display()))?;
        let durable = Self { db };
        durable.create_tables()?;
        let store = durable.load()?;
        Ok((durable, store))
    }

    fn import_json(path: &Path) -> anyhow::Result<(Self, Store)> {
        let store: Store = serde_json::from_slice(&std::fs::read(path)?)
            .map_err(|e| anyhow::anyhow!("state file {} is not valid: {e}", path.display()))?;
        let mut temp = path.as_os_str().to_owned();
        temp.push(".import");
        let temp = PathBuf::from(temp);
        let _ = std::fs::remove_file(&temp);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&temp)?;
        let durable = Self { db };
        durable.create_tables()?;
        durable.save_all(&store)?;
        std::fs::rename(&temp, path)?;
        Ok((durable, store))
    }

    fn create_tables(&self) -> std::io::Result<()> {
        let txn = self.db.begin_write().map_err(io)?;
        txn.open_table(LOAD_BALANCERS).map_err(io)?;
        txn.open_table(CERTIFICATES).map_err(io)?;
        txn.open_table(CLIENT_TOKENS).map_err(io)?;
        txn.open_table(COUNTERS).map_err(io)?;
        txn.commit().map_err(io)
    }

    fn load(&self) -> anyhow::Result<Store> {
        let txn = self.db.begin_read()?;
        let mut store = Store::default();
        let counters = txn.open_table(COUNTERS)?;
        let counter = |name: &str| -> anyhow::Result<u64> {
            Ok(counters.get(name)?.map(|v| v.value()).unwrap_or(0))
        };
        store.id_state = counter("id_state")?;
        store.next_address = u32::try_from(counter("next_address")?).unwrap_or(0);
        store.next_sequence = counter("next_sequence")?;
        for entry in txn.open_table(LOAD_BALANCERS)?.iter()? {
            let (_, value) = entry?;
            let owned: Owned<LoadBalancer> = serde_json::from_slice(value.value())?;
            let account = store.accounts.entry(owned.account).or_default();
            account
                .load_balancers
                .insert(owned.item.id.clone(), owned.item);
        }
        for entry in txn.open_table(CERTIFICATES)?.iter()? {
            let (key, value) = entry?;
            let owned: Owned<Certificate> = serde_json::from_slice(value.value())?;
            let account = store.accounts.entry(owned.account).or_default();
            let certificates = if key.value().starts_with("ca/") {
                &mut account.ca_certificates
            } else {
                &mut account.server_certificates
            };
            certificates.insert(owned.item.id.clone(), owned.item);
        }
        for entry in txn.open_table(CLIENT_TOKENS)?.iter()? {
            let (_, value) = entry?;
            let owned: Owned<ClientTokenRecord> = serde_json::from_slice(value.value())?;
            let account = store.accounts.entry(owned.account).or_default();
            account.client_tokens.insert(owned.key, owned.item);
        }
        Ok(store)
    }

    fn save_counters(txn: &WriteTransaction, store: &Store) -> std::io::Result<()> {
        let mut counters = txn.open_table(COUNTERS).map_err(io)?;
        counters.insert("id_state", store.id_state).map_err(io)?;
        counters
            .insert("next_address", u64::from(store.next_address))
            .map_err(io)?;
        counters
            .insert("next_sequence", store.next_sequence)
            .map_err(io)?;
        Ok(())
    }

    /// Saves the records `state.dirty` names (removing those that are gone) and the counters, in one
    /// durable transaction.
    pub fn save_changes(
        &self,
        store: &Store,
        account_id: &str,
        state: &AccountState,
    ) -> std::io::Result<()> {
        let txn = self.db.begin_write().map_err(io)?;
        {
            let dirty = &state.dirty;
            let mut table = txn.open_table(LOAD_BALANCERS).map_err(io)?;
            for id in &dirty.load_balancers {
                match state.load_balancers.get(id) {
                    Some(lb) => table.insert(id.as_str(), json(account_id, id, lb)?.as_slice()),
                    None => table.remove(id.as_str()).map(|_| None),
                }
                .map_err(io)?;
            }
            let mut table = txn.open_table(CERTIFICATES).map_err(io)?;
            for (prefix, ids, certificates) in [
                (
                    "server",
                    &dirty.server_certificates,
                    &state.server_certificates,
                ),
                ("ca", &dirty.ca_certificates, &state.ca_certificates),
            ] {
                for id in ids {
                    let key = format!("{prefix}/{id}");
                    match certificates.get(id) {
                        Some(c) => table.insert(key.as_str(), json(account_id, id, c)?.as_slice()),
                        None => table.remove(key.as_str()).map(|_| None),
                    }
                    .map_err(io)?;
                }
            }
            let mut table = txn.open_table(CLIENT_TOKENS).map_err(io)?;
            for token in &dirty.client_tokens {
                let key = format!("{account_id}\n{token}");
                match state.client_tokens.get(token) {
                    Some(r) => table.insert(key.as_str(), json(account_id, token, r)?.as_slice()),
                    None => table.remove(key.as_str()).map(|_| None),
                }
                .map_err(io)?;
            }
        }
        Self::save_counters(&txn, store)?;
        txn.commit().map_err(io)
    }

    /// Replaces everything saved with `store` (after a reset or a change behind the API's back).
    pub fn save_all(&self, store: &Store) -> std::io::Result<()> {
        let txn = self.db.begin_write().map_err(io)?;
        for table in [LOAD_BALANCERS, CERTIFICATES, CLIENT_TOKENS] {
            txn.delete_table(table).map_err(io)?;
        }
        {
            let mut lbs = txn.open_table(LOAD_BALANCERS).map_err(io)?;
            let mut certificates = txn.open_table(CERTIFICATES).map_err(io)?;
            let mut tokens = txn.open_table(CLIENT_TOKENS).map_err(io)?;
            for (account, state) in &store.accounts {
                for (id, lb) in &state.load_balancers {
                    lbs.insert(id.as_str(), json(account, id, lb)?.as_slice())
                        .map_err(io)?;
                }
                for (prefix, map) in [
                    ("server", &state.server_certificates),
                    ("ca", &state.ca_certificates),
                ] {
                    for (id, c) in map {
                        let key = format!("{prefix}/{id}");
                        certificates
                            .insert(key.as_str(), json(account, id, c)?.as_slice())
                            .map_err(io)?;
                    }
                }
                for (token, r) in &state.client_tokens {
                    let key = format!("{account}\n{token}");
                    tokens
                        .insert(key.as_str(), json(account, token, r)?.as_slice())
                        .map_err(io)?;
                }
            }
        }
        Self::save_counters(&txn, store)?;
        txn.commit().map_err(io)
    }
}
