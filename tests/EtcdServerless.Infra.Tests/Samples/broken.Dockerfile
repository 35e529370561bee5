# Deliberately broken: .ci/check-deploy requires both Dockerfile linters to reject this file (a linter that
# accepts it is not checking anything). Errors: no USER argument, COPY with one argument, ENV without a value,
# an invalid HEALTHCHECK duration, an untagged base image, a port out of range.
FROM debian
USER
COPY --chown=1:1
ENV A
HEALTHCHECK --interval=x CMD true
EXPOSE 99999
