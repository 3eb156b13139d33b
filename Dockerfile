# The mig programs in a small image, for Kubernetes Jobs and platforms'
# pre-deploy commands, e.g.  docker run --rm -e DATABASE_URL -v "$PWD/migrations:/migrations" IMAGE mig-upgrade -m /migrations
#
# Built in one stage with the build profile, copied into a runtime-only one
# (the shared libraries, no compiler). Every program is on PATH and no
# ENTRYPOINT is set: the command is the user's. It runs as the user mig.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN ./scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make clean && make -j"$(nproc)" && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
    && useradd --system --create-home --home-dir /home/mig --shell /usr/sbin/nologin mig
COPY --from=build /out/usr/local/ /usr/local/
COPY LICENSE /usr/local/share/doc/mig/LICENSE
USER mig
WORKDIR /home/mig
CMD ["mig-status", "--help"]
