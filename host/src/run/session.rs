//! The lock of a metadata table held for one or more runs, and what is done under it.

use super::*;

/// The lock of a metadata table held for one or more runs (a folder's migrations run one
/// after another under one lease, so no other run slips in between them).
pub struct Session {
    /// Every request goes through the fence the lease extends while it holds.
    client: Client,
    options: SessionOptions,
    meta: MetadataTable,
    lease: Lease,
    stop: Stop,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Session {
    /// Creates the metadata table if needed and takes its lock (for `purpose`, shown to whoever
    /// finds it taken); the lease is renewed until [`Session::close`] or until `stop`.
    pub async fn open(
        client: &Client,
        options: &SessionOptions,
        stop: Stop,
        purpose: &str,
    ) -> Result<Session> {
        // Every request of the session goes through one fence, which the lease extends while
        // it holds: checked by the retry policy before each attempt, and by the client before
        // it transmits.
        let fence = Fence::stopping(stop.clone());
        let client = fenced(client, fence.clone());
        let options = SessionOptions {
            policy: RetryPolicy {
                fence,
                ..options.policy.clone()
            },
            ..options.clone()
        };
        let meta = MetadataTable::new(client.clone(), &options.meta_table, options.policy.clone());
        meta.ensure(options.billing).await?;
        let owner = uuid::Uuid::new_v4().to_string();
        let lease = Lease::acquire(
            &client,
            &options.policy,
            &options.meta_table,
            &owner,
            purpose,
            options.lease,
        )
        .await?;
        let heartbeat = tokio::spawn(lease.clone().heartbeat(stop.clone()));
        Ok(Session {
            client,
            options,
            meta,
            lease,
            stop,
            heartbeat,
        })
    }

    /// The fenced client: its requests stop once the lease is lost.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The metadata table.
    pub fn meta(&self) -> &MetadataTable {
        &self.meta
    }

    /// The lease held.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// The session's options, with the fenced retry policy.
    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// Runs `migration` (or its rollback) as `options` say under this session's lock (whose
    /// options replace the run's own); see [`run`].
    pub async fn run(
        &self,
        migration: Arc<LoadedMigration>,
        options: &RunOptions,
        counts: Arc<LiveCounts>,
    ) -> Result<RunReport> {
        let tables = migration.tables(options.table.as_deref());
        let schemas = table_schemas(&self.client, &self.options.policy, &tables).await?;
        self.run_with_schemas(migration, options, counts, schemas, None)
            .await
    }

    /// [`Session::run`] with the schemas of the migration's tables already read, applying
    /// `plan` instead of scanning if given.
    pub(super) async fn run_with_schemas(
        &self,
        migration: Arc<LoadedMigration>,
        options: &RunOptions,
        counts: Arc<LiveCounts>,
        schemas: Schemas,
        plan: Option<&Planned>,
    ) -> Result<RunReport> {
        let started = Instant::now();
        // Every request goes through the session's fence.
        let options = &RunOptions {
            session: self.options.clone(),
            ..options.clone()
        };
        let tables = migration.tables(options.table.as_deref());
        let own = tables.own();
        // A live run needs the table's stream: refused (nothing written) without one.
        let stream = match &options.live {
            Some(live) => {
                Some(live::table_stream_for(&self.client, &self.options.policy, own, live).await?)
            }
            None => None,
        };
        let estimate = approximate_item_count(&self.client, &self.options.policy, own).await;
        counts
            .expected
            .store(estimate.unwrap_or(0), Ordering::Relaxed);
        let run = RunContext {
            scan: ScanContext {
                migration: &migration,
                client: &self.client,
                options,
                counts: &counts,
                stop: &self.stop,
                schemas: &schemas,
                table: own,
                read_only: false,
            },
            meta: &self.meta,
            lease: &self.lease,
            run_id: uuid::Uuid::new_v4().to_string(),
            stream,
        };
        run_locked(&run, plan, started).await
    }

    /// Gives the lock back (a failure to do so is only logged: the lease expires anyway).
    pub async fn close(self) {
        self.heartbeat.abort();
        if let Err(error) = self.lease.release().await {
            tracing::warn!("{error:#}");
        }
    }
}
