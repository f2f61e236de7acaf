# wsproxy in a FROM scratch image (wsproxy(1) CONTAINERS):
#   docker build -t wsproxy .      (or: podman build -t wsproxy .)
#   docker run --rm -p 8080:8080 wsproxy \
#       --listen 0.0.0.0:8080 --upstream ws://app:4000/socket --path /socket
# The image holds the static binary (musl, BearSSL for wss://) and a CA
# bundle, nothing else: no shell, no libc, no init.  wsproxy is PID 1 and
# handles SIGTERM itself (a drain), so no init is needed.

FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make gcc musl-tools \
      ca-certificates dpkg-dev file \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# BearSSL from Debian's source package, built with musl (needs deb-src).
RUN make clean && make static TLS=1

FROM scratch
COPY --from=build /src/wsproxy-static /wsproxy
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
EXPOSE 8080
USER 65534:65534
ENTRYPOINT ["/wsproxy"]
CMD ["--help"]
