# pc6risk on Debian 12: built in one stage, run from a slim one.
# Used by docker-compose.yml; see the README's "Deployment" section.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config libpq-dev libgdal-dev libcjson-dev libglpk-dev \
    libsqlite3-dev libdeflate-dev libmicrohttpd-dev libcairo2-dev npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts ./scripts
COPY include ./include
COPY src ./src
COPY sql ./sql
COPY presets ./presets
COPY demo ./demo
COPY maps/viewer ./maps/viewer
RUN make -j"$(nproc)" all viewer && make install DESTDIR=/stage PREFIX=/usr/local

FROM debian:12
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libgdal32 libcjson1 libglpk40 libsqlite3-0 libdeflate0 libmicrohttpd12 \
    libcairo2 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin pc6risk \
 && mkdir -p /out && chown pc6risk /out
COPY --from=build /stage/usr/local /usr/local
COPY contrib/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER pc6risk
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 8080
CMD ["daemon", "-c", "/inputs/pc6risk.json", "--out", "/out", "--listen", "0.0.0.0:8080"]
