# Keelson's container image: a build stage compiles the TypeScript with the dev dependencies, the runtime stage
# holds Node 24, the production dependencies, the compiled code, and the git/ssh/gpg tools and kustomize Git sync runs.

FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: the prepare script (a build) needs the sources, which are not here yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# kustomize for GitSyncs whose path holds a kustomization: Debian's package (bookworm has none; unstable's needs only
# libc), pinned to the version the tests run and checked against its digest, unpacked here and copied alone into
# the runtime image. A private apt configuration: the image's own sources and state are left as they are.
FROM node:24-bookworm AS kustomize
ARG KUSTOMIZE_DEB_VERSION=5.8.1+ds-1
ARG KUSTOMIZE_DEB_SHA256=2f926a268932f0798020638188d6925e3de6065744f93a0b48a5c0e92dadeac9
WORKDIR /sid
RUN mkdir -p lists/partial cache/archives/partial \
 && echo 'deb http://deb.debian.org/debian sid main' > sources.list \
 && APT="-o Dir::Etc::SourceList=/sid/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=/sid/lists -o Dir::Cache=/sid/cache -o Dir::State::Status=/dev/null" \
 && apt-get $APT update \
 && apt-get $APT download "kustomize=${KUSTOMIZE_DEB_VERSION}" \
 && echo "${KUSTOMIZE_DEB_SHA256}  $(ls kustomize_*.deb)" | sha256sum -c - \
 && dpkg -x kustomize_*.deb /out \
 && /out/usr/bin/kustomize version

FROM node:24-bookworm-slim
# git for Git sync, openssh-client for ssh:// remotes, gnupg for signed-commit verification, tini as PID 1 so the
# git and ssh processes Git sync starts are reaped and signals reach node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client gnupg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 keelson \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin keelson
WORKDIR /app
# glibc malloc: at most 2 arenas (not 8 per core for Node's helper threads); free memory at the top of the heap goes
# back to the system at once (trim threshold and top pad 0; a fixed threshold also turns off glibc's dynamic one,
# which after the first large free serves buffers up to 32 MiB from the heap), so the socket and TLS buffers of the
# initial LIST pages do not stay resident. The benchmarks start the controller with this same ENV
# (bench/support/image-env.ts); the V8 settings are in bin/keelson.js.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=0 MALLOC_TOP_PAD_=0
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY --from=kustomize /out/usr/bin/kustomize /usr/local/bin/kustomize
# A numeric user, so runAsNonRoot can verify it; it has a passwd entry because ssh refuses to run without one.
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/keelson.js"]
CMD ["controller"]
