"""Seeds for the formats ../shared/data/real-world has no file of (Dockerfile, go.mod,
Kubernetes, .env and configuration files, setup.py, vcpkg, conan, a wheel's METADATA).

Kept as strings, not files, so that depchain scanning its own repository never reads them.
Each is small and looks like what real projects ship."""

from __future__ import annotations

DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG PYTHON_VERSION=3.12
ARG BASE=python:${PYTHON_VERSION}-slim-bookworm
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_INDEX_URL=https://pypi.org/simple
RUN apt-get update && apt-get install -y --no-install-recommends \\
        build-essential libpq-dev git \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements/main.txt /app/requirements.txt
RUN pip install --no-deps -r /app/requirements.txt \\
    && pip install "gunicorn==22.0.0" uvicorn[standard]>=0.30 \\
    && pip install git+https://github.com/org/lib.git@v1.2.3#egg=lib
RUN curl -fsSL https://example.com/install.sh | sh
RUN uv sync --frozen --group prod --extra postgres
ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini /tini

FROM alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5 AS tools
RUN apk add --no-cache curl=8.9.1-r0 ca-certificates

FROM build AS runtime
COPY --from=tools /usr/bin/curl /usr/bin/curl
COPY --from=ghcr.io/astral-sh/uv:0.4.20 /uv /bin/uv
RUN RUN_DEPS="libpq5 tzdata" && apt-get install -y $RUN_DEPS
RUN dnf install -y httpd && yum install -y nginx-1.20
USER 1000
ENTRYPOINT ["/tini", "--", "gunicorn", "app:wsgi"]
"""

GOMOD = """\
module github.com/example/tool

go 1.22

toolchain go1.22.4

require (
\tgithub.com/spf13/cobra v1.8.0
\tgithub.com/stretchr/testify v1.9.0
\tgolang.org/x/sys v0.20.0 // indirect
\tgopkg.in/yaml.v3 v3.0.1 // indirect
)

require github.com/pkg/errors v0.9.1

exclude golang.org/x/net v0.1.0

replace github.com/pkg/errors v0.9.1 => github.com/pkg/errors v0.9.2

replace (
\tgithub.com/example/internal => ../internal
\texample.com/fork => github.com/someone/fork v1.0.1-0.20240101000000-abcdefabcdef
)

retract [v1.0.0, v1.0.5]
"""

GOSUM = """\
github.com/spf13/cobra v1.8.0 h1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=
github.com/spf13/cobra v1.8.0/go.mod h1:WXLWApfZ71AjXPya3WOlMsY9yMs7YeiHhFVlvLyhcho=
"""

KUBERNETES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
        - name: migrate
          image: registry.example.com/shop/web:1.4.2
          command: ["python", "manage.py", "migrate"]
      containers:
        - name: web
          image: >-
            reg.example/web@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
          env:
            - name: DATABASE_URL
              value: postgres://shop:${DB_PASSWORD}@postgres.shop.svc:5432/shop
            - name: REDIS_URL
              value: redis://redis:6379/0
            - name: BROKER
              valueFrom: {secretKeyRef: {name: broker, key: url}}
          ports: [{containerPort: 8000}]
        - name: sidecar
          image: envoyproxy/envoy:v1.30.1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cleanup}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: cleanup
              image: busybox:latest
          restartPolicy: OnFailure
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources: [deployment.yaml]
images:
  - name: registry.example.com/shop/web
    newTag: 1.4.3
"""

DOTENV = """\
# local settings
export DJANGO_SETTINGS_MODULE=shop.settings
DATABASE_URL=postgres://shop:hunter2@localhost:5432/shop
REDIS_URL="redis://:secret@redis:6379/1"
CELERY_BROKER_URL='amqp://guest:guest@rabbitmq:5672//'
SENTRY_DSN=https://0123456789abcdef@o1.ingest.sentry.io/42
S3_ENDPOINT=https://s3.eu-west-1.amazonaws.com
CACHE_URL=${REDIS_URL}
EMPTY=
MULTI="line one
line two"
"""

CONFIG_YAML = """\
database:
  url: postgresql+psycopg://app:${DB_PASSWORD}@db.internal:5432/app?sslmode=require
  pool: 5
cache:
  backend: redis
  location: rediss://cache.internal:6380/0
queues:
  - amqp://user:pass@mq.internal/vhost
  - sqs://sqs.us-east-1.amazonaws.com/123456789012/jobs
smtp: {host: smtp.example.com, port: 587}
"""

SETTINGS_TOML = """\
[default]
database_url = "mysql://root:root@127.0.0.1:3306/app"
elasticsearch = ["https://es1.internal:9200", "https://es2.internal:9200"]

[production]
database_url = "@format {env[DATABASE_URL]}"
mongo = { uri = "mongodb+srv://app:pw@cluster0.mongodb.net/app?retryWrites=true" }
"""

CONFIG_JSON = """\
{
  "Logging": {"LogLevel": {"Default": "Information"}},
  "ConnectionStrings": {
    "Default": "Server=tcp:db.example.com,1433;Database=app;User Id=app;Password=pw;",
    "Redis": "redis://redis.example.com:6379"
  },
  "Kafka": {"BootstrapServers": "kafka-1:9092,kafka-2:9092"},
  "Endpoints": ["https://api.example.com/v1", "http://localhost:8080"]
}
"""

ALEMBIC_INI = """\
[alembic]
script_location = migrations
sqlalchemy.url = postgresql://alembic:pw@localhost/app

[loggers]
keys = root
"""

SETUP_PY = """\
from setuptools import find_packages, setup

setup(
    name="legacy-app",
    version="2.1.0",
    packages=find_packages(exclude=["tests"]),
    install_requires=[
        "requests>=2.31",
        "click==8.1.7",
        'importlib-metadata; python_version < "3.8"',
    ],
    extras_require={"dev": ["pytest", "black==24.4.2"], "s3": ["boto3"]},
    setup_requires=["setuptools_scm"],
    tests_require=["pytest-cov"],
    dependency_links=["https://example.com/simple/private-pkg/"],
    python_requires=">=3.8",
)
"""

VCPKG_JSON = """\
{
  "name": "native-ext",
  "version-string": "1.0.0",
  "builtin-baseline": "3426db05b996481ca31e95fff3734cf23e0f51bc",
  "dependencies": [
    "zlib",
    {"name": "openssl", "version>=": "3.0.8"},
    {"name": "curl", "features": ["http2"], "platform": "!windows"}
  ],
  "overrides": [{"name": "fmt", "version": "10.1.1"}]
}
"""

CONANFILE = """\
[requires]
zlib/1.3.1
openssl/3.2.1@user/stable
boost/[>=1.80 <1.86]

[tool_requires]
cmake/3.29.0

[generators]
CMakeDeps
CMakeToolchain

[options]
openssl/*:shared=True
"""

METADATA = """\
Metadata-Version: 2.3
Name: fuzzwheel
Version: 1.2.3
Summary: A wheel for the fuzzer
Requires-Python: >=3.9
License-Expression: MIT
Requires-Dist: requests>=2.31
Requires-Dist: idna<4,>=2.5
Requires-Dist: tomli>=1.1; python_version < "3.11"
Requires-Dist: pytest; extra == "test"
Requires-Dist: private @ https://files.example.com/private-1.0-py3-none-any.whl
Provides-Extra: test
Project-URL: Source, https://github.com/example/fuzzwheel

A long description.
"""

WHEEL = """\
Wheel-Version: 1.0
Generator: fuzz (1.0)
Root-Is-Purelib: false
Tag: cp312-cp312-manylinux_2_17_x86_64
"""

RECORD = """\
fuzzwheel/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0
fuzzwheel-1.2.3.dist-info/METADATA,,
fuzzwheel-1.2.3.dist-info/WHEEL,,
fuzzwheel-1.2.3.dist-info/RECORD,,
"""

GITMODULES = """\
[submodule "vendor/lib"]
\tpath = vendor/lib
\turl = https://github.com/example/lib.git
\tbranch = main
[submodule "docs/theme"]
\tpath = docs/theme
\turl = ../theme.git
"""

TEXT_SEEDS: dict[str, str] = {
    "Dockerfile": DOCKERFILE,
    "docker/Dockerfile.prod": DOCKERFILE,
    "go.mod": GOMOD,
    "k8s/deployment.yaml": KUBERNETES,
    "k8s/kustomization.yaml": KUSTOMIZATION,
    ".env": DOTENV,
    "config/config.yaml": CONFIG_YAML,
    "settings.toml": SETTINGS_TOML,
    "appsettings.json": CONFIG_JSON,
    "alembic.ini": ALEMBIC_INI,
    "setup.py": SETUP_PY,
    "vcpkg.json": VCPKG_JSON,
    "conanfile.txt": CONANFILE,
    ".gitmodules": GITMODULES,
}
"""Relative path -> text: one seed per format missing from the real-world data."""

SIDE_FILES: dict[str, dict[str, str]] = {"go.mod": {"go.sum": GOSUM}}
"""Unmutated neighbours a seed is scanned with."""

WHEEL_NAME = "fuzzwheel-1.2.3-cp312-cp312-manylinux_2_17_x86_64.whl"
WHEEL_MEMBERS: dict[str, str] = {
    "fuzzwheel/__init__.py": "",
    "fuzzwheel-1.2.3.dist-info/METADATA": METADATA,
    "fuzzwheel-1.2.3.dist-info/WHEEL": WHEEL,
    "fuzzwheel-1.2.3.dist-info/RECORD": RECORD,
}
"""A wheel's members: each mutated as text, then zipped."""
