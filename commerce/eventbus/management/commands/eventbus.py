"""``manage.py eventbus lag|deadletters|replay|purge|relay|sweep|prune``: operating the event bus."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from commerce.eventbus import deadletters, relay


class Command(BaseCommand):
    help = "Operate the event bus: outbox lag, dead letters (list, replay, purge), manual relay/sweep/prune."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("lag", help="oldest unpublished event's age, backlog size, pending dispatches")
        listing = sub.add_parser("deadletters", help="list dead letters")
        listing.add_argument("--handler")
        listing.add_argument("--limit", type=int, default=100)
        for name, text in (("replay", "send dead letters again with fresh attempts"),
                           ("purge", "delete dead letters for good")):
            action = sub.add_parser(name, help=text)
            action.add_argument("ids", nargs="*", type=int, help="dispatch ids (see deadletters)")
            action.add_argument("--handler")
            action.add_argument("--all", action="store_true", help="every dead letter")
        sub.add_parser("relay", help="relay the outbox now")
        sub.add_parser("sweep", help="re-send overdue dispatches now")
        sub.add_parser("prune", help="delete rows older than the retention now")

    def handle(self, *args, action, **options):
        if action == "lag":
            self.stdout.write(json.dumps(relay.lag(), indent=2))
        elif action == "deadletters":
            letters = deadletters.dead_letter_list(handler=options["handler"], limit=options["limit"])
            if not letters:
                self.stdout.write("no dead letters")
            for letter in letters:
                error = letter.last_error.strip().splitlines()[-1] if letter.last_error else ""
                self.stdout.write(
                    f"#{letter.dispatch_id} {letter.handler} events={','.join(letter.event_names)} "
                    f"outbox={letter.outbox_ids} attempts={letter.attempts} at={letter.updated_at:%Y-%m-%dT%H:%M:%SZ}"
                    f"\n    {error}"
                )
        elif action in ("replay", "purge"):
            ids = options["ids"] or None
            if ids is None and not options["all"] and not options["handler"]:
                raise CommandError("name dispatch ids, --handler, or --all")
            run = deadletters.dead_letter_replay if action == "replay" else deadletters.dead_letter_purge
            count = run(ids=ids, handler=options["handler"])
            self.stdout.write(f"{action}: {count} dead letter(s)")
        elif action == "relay":
            self.stdout.write(f"relayed {relay.relay_all(max_seconds=60)} event(s)")
        elif action == "sweep":
            self.stdout.write(f"re-sent {relay.sweep()} dispatch(es)")
        elif action == "prune":
            self.stdout.write(json.dumps(relay.prune()))
