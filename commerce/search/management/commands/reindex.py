"""``manage.py reindex [--if-missing]``: rebuild the search index aside and switch to it."""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from commerce.search import index, rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from the catalog without downtime (build aside, then switch)."

    def add_arguments(self, parser):
        parser.add_argument("--if-missing", action="store_true", help="only when there is no live index")
        parser.add_argument("--verify", action="store_true",
                            help="compare the live index with the catalog and report drift (no rebuild)")

    def handle(self, *args, if_missing=False, verify=False, **options):
        if verify:
            with tqdm(desc="verify", unit="product", mininterval=0.5) as bar:
                drift = rebuild.verify(progress=bar.update)
            self.stdout.write(f"checked {drift.checked} products: {drift.missing} missing, {drift.stale} stale, "
                              f"{drift.extra} extra")
            for example in drift.examples:
                self.stdout.write(f"  {example}")
            if not drift.clean:
                raise CommandError("the search index has drifted from the catalog; run manage.py reindex")
            return
        if if_missing and index.client().get(index.GENERATION_KEY):
            self.stdout.write("search index present; nothing to do")
            return
        with tqdm(desc="reindex", unit="product", mininterval=0.5) as bar:
            generation, count = rebuild.rebuild(progress=bar.update)
            rate = count / bar.format_dict["elapsed"] if bar.format_dict["elapsed"] else 0
        self.stdout.write(f"search index generation {generation} is live: {count} products ({rate:,.0f}/s)")
