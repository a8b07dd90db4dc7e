"""What the compose and Kubernetes resolvers share: the deployment they collect.

Both describe what a deployment runs: the images (components), the services and the
edges to them, and the connection URLs found in its configuration (a
:class:`~depchain.resolvers.configurls.UrlCollector`). What is found twice (an image
used by several services, the same edge seen from two places) is merged by id as it
comes (:class:`Deployment`).
"""

from __future__ import annotations

from collections.abc import Iterable

from depchain.model import Component, Dependency, Fragment, InputError, Service
from depchain.resolvers.configurls import UrlCollector


class Deployment:
    """Mixed into a resolver's state dataclass, which holds these fields."""

    subject: Component
    collector: UrlCollector
    components: dict[str, Component]
    services: dict[str, Service]
    dependencies: dict[tuple[str, str, str], Dependency]

    def add_component(self, component: Component) -> None:
        old = self.components.get(component.id)
        self.components[component.id] = old.merged(component) if old else component

    def add_service(self, service: Service) -> None:
        old = self.services.get(service.id)
        self.services[service.id] = old.merged(service) if old else service

    def add_edge(self, dep: Dependency) -> None:
        key = (dep.source, dep.target, "|".join(dep.key))
        old = self.dependencies.get(key)
        self.dependencies[key] = old.merged(dep) if old else dep

    def fragment(
        self, errors: Iterable[InputError] = (), notes: Iterable[tuple[str, str]] = ()
    ) -> Fragment:
        """The project, what it runs and the services it uses, with the collector's
        connection URLs (its errors after ``errors``)."""
        for dep in self.collector.dependencies.values():
            self.add_edge(dep)
        return Fragment(
            components=(self.subject, *self.components.values()),
            services=(*self.services.values(), *self.collector.services.values()),
            dependencies=tuple(self.dependencies.values()),
            errors=(*errors, *self.collector.errors),
            notes=tuple(notes),
        )
