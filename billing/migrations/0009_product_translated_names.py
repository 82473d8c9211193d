"""Product names in Spanish and French, editable in admin; the starting catalogue's
names filled in where staff have not written one."""

from django.db import migrations, models

# code: (Spanish, French)
NAMES = {
    "domain-com": ("Nombre de dominio .com", "Nom de domaine .com"),
    "web-hosting": ("Alojamiento web", "Hébergement web"),
    "vps": ("VPS", "VPS"),
}


def fill_names(apps, schema_editor):
    Product = apps.get_model("billing", "Product")
    for code, (spanish, french) in NAMES.items():
        Product.objects.filter(code=code, name_es="").update(name_es=spanish)
        Product.objects.filter(code=code, name_fr="").update(name_fr=french)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0008_support_contact_changes'),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='name_es',
            field=models.CharField(blank=True, max_length=100, verbose_name='name in Spanish'),
        ),
        migrations.AddField(
            model_name='product',
            name='name_fr',
            field=models.CharField(blank=True, max_length=100, verbose_name='name in French'),
        ),
        migrations.AlterField(
            model_name='product',
            name='name',
            field=models.CharField(help_text='In English: shown in any language without a name below.', max_length=100, verbose_name='name'),
        ),
        migrations.RunPython(fill_names, migrations.RunPython.noop),
    ]
