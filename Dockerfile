# Pathwise server image: `docker build -t pathwise .` then
#   docker run -p 7070:7070 -v pathwise-data:/var/lib/pathwise -e PATHWISE_TOKEN=... pathwise
# The first stage builds the `pathwise` command; the second holds only that binary, run by an
# unprivileged user, with its database and spool on the /var/lib/pathwise volume.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Only the command (SQLite is bundled, ClickHouse spoken over HTTP): no Python, no browser.
RUN cargo build --release --locked -p pathwise-cli \
    && install -D -m 0755 target/release/pathwise /out/pathwise

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 pathwise \
    && useradd --system --uid 10001 --gid pathwise --home-dir /var/lib/pathwise \
        --shell /usr/sbin/nologin pathwise \
    && install -d -o pathwise -g pathwise -m 0750 /var/lib/pathwise
COPY --from=build /out/pathwise /usr/local/bin/pathwise
USER 10001:10001
WORKDIR /var/lib/pathwise
VOLUME ["/var/lib/pathwise"]
EXPOSE 7070
# Inside a container the server must listen on every interface for a published port to reach
# it; set PATHWISE_TOKEN (the admin key) so that it is not open to whoever reaches the port.
# SIGTERM (`docker stop`) stops it gracefully: held spans are rooted, the backlog is written.
ENTRYPOINT ["/usr/local/bin/pathwise"]
CMD ["serve", "--db", "/var/lib/pathwise/pathwise.db", "--listen", "0.0.0.0:7070"]
