//! How every service keeps its resources: behind one lock, never held across an `.await`, whose poisoning (a
//! panic while it was held) is ignored so that nothing already stored is lost.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resources kept per scope (an account, or an account and region), each scope's created empty on first use.
#[derive(Debug)]
pub struct Scoped<K, V> {
    scopes: Mutex<HashMap<K, V>>,
}

impl<K, V> Default for Scoped<K, V> {
    fn default() -> Self {
        Self { scopes: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Default> Scoped<K, V> {
    /// Runs `f` on one scope's resources.
    pub fn with<T>(&self, scope: K, f: impl FnOnce(&mut V) -> T) -> T {
        f(lock(&self.scopes).entry(scope).or_default())
    }

    /// Runs `f` on one scope's resources if it has any, creating nothing (for reads on behalf of another service).
    pub fn read<T>(&self, scope: K, f: impl FnOnce(Option<&V>) -> T) -> T {
        f(lock(&self.scopes).get(&scope))
    }

    /// Runs `f` on every scope (requests that carry no account, such as execute-api's, search them all).
    pub fn all<T>(&self, f: impl FnOnce(&mut HashMap<K, V>) -> T) -> T {
        f(&mut lock(&self.scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_the_lock_is_held_loses_nothing() {
        let scoped: Scoped<&str, Vec<u32>> = Scoped::default();
        scoped.with("a", |v| v.push(1));
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scoped.with("a", |v| {
                v.push(2);
                panic!("a handler bug");
            })
        }));
        assert!(poisoned.is_err());
        assert_eq!(scoped.with("a", |v| v.clone()), [1, 2]);
        assert_eq!(scoped.all(|scopes| scopes.len()), 1);
    }
}
